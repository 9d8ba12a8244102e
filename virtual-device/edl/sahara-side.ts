/**
 * The boot ROM's side of Sahara, as a bricked Qualcomm device speaks it: HELLO on connect, command mode
 * (serial, MSM HW id, OEM PK hash, READ_CHIP_ID_V3 on v3), and the programmer transfer — ELF header, then
 * program headers, then the segment in 4 KiB pieces, as real ROMs ask. The programmer is accepted only when
 * its (simulated) signature names this device's OEM PK hash; otherwise END_OF_IMAGE with status 0x25.
 */

import { SIM_HEADER_SIZE, simulatedSigner } from '../../main/protocol/sahara/programmer.js';
import {
  decodeSahara,
  decodeSaharaHeader,
  encodeSahara,
  SAHARA_EXEC,
  SAHARA_HEADER_SIZE,
  SAHARA_IMAGE_FIREHOSE,
  SAHARA_MODE,
  type SaharaPacket,
} from '../../main/protocol/sahara/wire.js';
import type { DeviceLink } from './device-link.js';

export interface SaharaIdentityConfig {
  readonly version: 2 | 3;
  readonly serialNumber: number;
  readonly msmHwId: bigint;
  readonly oemPkHash: Uint8Array;
  readonly chipId: { readonly msmId: number; readonly oemId: number; readonly modelId: number };
  /** Fault: do not send the first HELLO (a host driver "swallowed" it); wait for the host's HELLO_RESP. */
  readonly swallowHello?: boolean;
  /** Told the size of every programmer piece received (tests assert "not a byte was sent"). */
  readonly onProgrammerBytes?: (bytes: number) => void;
}

/** How a Sahara session ended. */
export type SaharaEnd = 'programmer-loaded' | 'reset' | 'refused';

const IDLE_MS = 120_000;
const PIECE = 0x1000;

export async function serveSahara(link: DeviceLink, cfg: SaharaIdentityConfig): Promise<SaharaEnd> {
  const send = (p: SaharaPacket) =>
    link.write(encodeSahara(p, cfg.version >= 3 && p.cmd === 'readData'), { timeoutMs: IDLE_MS });
  const recv = async (): Promise<SaharaPacket> => {
    const head = await link.readExactly(SAHARA_HEADER_SIZE, { timeoutMs: IDLE_MS });
    const { length } = decodeSaharaHeader(head);
    const whole = new Uint8Array(length);
    whole.set(head);
    if (length > SAHARA_HEADER_SIZE)
      whole.set(
        await link.readExactly(length - SAHARA_HEADER_SIZE, { timeoutMs: IDLE_MS }),
        SAHARA_HEADER_SIZE,
      );
    return decodeSahara(whole);
  };
  const hello = () =>
    send({
      cmd: 'hello',
      version: cfg.version,
      compatible: 1,
      value: 1024,
      mode: SAHARA_MODE.imageTxPending,
    });
  const endOfImage = (status: number) => send({ cmd: 'endOfImage', image: SAHARA_IMAGE_FIREHOSE, status });

  let first = !cfg.swallowHello;
  for (;;) {
    if (first) await hello();
    first = true;
    let p = await recv();
    if (p.cmd !== 'helloResp') {
      await endOfImage(0x01);
      return 'refused';
    }
    if (p.mode === SAHARA_MODE.command) {
      await send({ cmd: 'cmdReady' });
      for (;;) {
        p = await recv();
        if (p.cmd === 'helloResp') continue; // a late duplicate answer
        if (p.cmd === 'switchMode') break;
        if (p.cmd === 'reset') {
          await send({ cmd: 'resetResp' });
          return 'reset';
        }
        if (p.cmd !== 'execute') {
          await endOfImage(0x01);
          return 'refused';
        }
        const data = commandData(cfg, p.clientCommand);
        if (!data) {
          await endOfImage(0x1f);
          continue;
        }
        await send({ cmd: 'executeResp', clientCommand: p.clientCommand, dataLength: data.byteLength });
        const go = await recv();
        if (go.cmd !== 'executeData') {
          await endOfImage(0x01);
          return 'refused';
        }
        await link.write(data, { timeoutMs: IDLE_MS });
      }
      continue; // SWITCH_MODE: say HELLO again
    }
    if (p.mode !== SAHARA_MODE.imageTxPending) {
      await endOfImage(0x18);
      return 'refused';
    }
    return receiveProgrammer(send, recv, link, cfg);
  }
}

function commandData(cfg: SaharaIdentityConfig, command: number): Uint8Array | null {
  const b = Buffer.alloc(96);
  switch (command) {
    case SAHARA_EXEC.serialNumber:
      b.writeUInt32LE(cfg.serialNumber >>> 0, 0);
      return b.subarray(0, 4);
    case SAHARA_EXEC.msmHwId:
      if (cfg.version >= 3) return null; // v3 ROMs refuse it (READ_CHIP_ID_V3 instead)
      b.writeBigUInt64LE(cfg.msmHwId, 0);
      return b.subarray(0, 8);
    case SAHARA_EXEC.oemPkHash:
      // Real ROMs repeat the 32-byte hash three times.
      for (let i = 0; i < 3; i++) b.set(cfg.oemPkHash, i * 32);
      return b;
    case SAHARA_EXEC.chipIdV3: {
      if (cfg.version < 3) return null;
      const c = Buffer.alloc(48);
      c.writeUInt32LE(cfg.chipId.msmId, 36);
      c.writeUInt16LE(cfg.chipId.oemId, 40);
      c.writeUInt16LE(cfg.chipId.modelId, 42);
      return c;
    }
    default:
      return null;
  }
}

async function receiveProgrammer(
  send: (p: SaharaPacket) => Promise<void>,
  recv: () => Promise<SaharaPacket>,
  link: DeviceLink,
  cfg: SaharaIdentityConfig,
): Promise<SaharaEnd> {
  const ask = async (offset: number, length: number) => {
    await send({ cmd: 'readData', image: SAHARA_IMAGE_FIREHOSE, offset, length });
    const piece = await link.readExactly(length, { timeoutMs: IDLE_MS });
    cfg.onProgrammerBytes?.(piece.byteLength);
    return piece;
  };
  const refuse = async (status: number): Promise<SaharaEnd> => {
    await send({ cmd: 'endOfImage', image: SAHARA_IMAGE_FIREHOSE, status });
    return 'refused';
  };
  const elf = Buffer.from(await ask(0, 0x34));
  if (elf.readUInt32BE(0) !== 0x7f454c46) return refuse(0x14);
  const phoff = elf.readUInt32LE(0x1c);
  const phnum = elf.readUInt16LE(0x2c);
  if (phoff !== 0x34 || phnum < 1 || phnum > 16) return refuse(0x0e);
  const ph = Buffer.from(await ask(phoff, phnum * 0x20));
  const segOffset = ph.readUInt32LE(4);
  const segSize = ph.readUInt32LE(16);
  if (segOffset !== 0x54 || segSize < SIM_HEADER_SIZE - 0x54 || segSize > 16 << 20) return refuse(0x0f);
  const segment: Buffer[] = [];
  for (let at = 0; at < segSize; at += PIECE)
    segment.push(Buffer.from(await ask(segOffset + at, Math.min(PIECE, segSize - at))));
  const head = Buffer.concat([elf, ph.subarray(0, 0x20), ...segment]).subarray(0, SIM_HEADER_SIZE);
  const signer = simulatedSigner(head);
  if (!signer || Buffer.compare(Buffer.from(signer), Buffer.from(cfg.oemPkHash)) !== 0) return refuse(0x25);
  await send({ cmd: 'endOfImage', image: SAHARA_IMAGE_FIREHOSE, status: 0 });
  const done = await recv();
  if (done.cmd !== 'done') return 'refused';
  await send({ cmd: 'doneResp', status: 1 });
  return 'programmer-loaded';
}
