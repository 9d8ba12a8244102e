/**
 * The programmer's side of Firehose on the virtual device: XML commands in, `<log>` lines and one
 * `<response>` out, raw sectors in raw mode. Framing and the XML codec are the host's own (main/protocol/
 * firehose), as the architecture asks. Faults: NAK when a program touches a chosen sector (the data is still
 * consumed so the stream stays in step, as a programmer that fails a write does), a dropped link N raw bytes
 * into a program, and a storage type other than the one the host configures.
 */
import { crc32 } from 'node:zlib';
import { FirehoseReader } from '../../main/protocol/firehose/framing.js';
import { resolveSector } from '../../main/protocol/firehose/sectors.js';
import { buildXml, parseXml, type XmlElement } from '../../main/protocol/firehose/xml.js';
import type { DeviceLink } from './device-link.js';
import type { SectorStorage } from './storage.js';

export interface FirehoseFaults {
  /** NAK any program whose range includes this sector (physical partition 0). */
  readonly nakAtSector?: number;
  /** Drop the link after this many raw bytes of program data (once). */
  readonly dropAtByte?: number;
}

export interface FirehoseDeviceState {
  readonly storage: SectorStorage;
  readonly faults: FirehoseFaults;
  /** Largest payload the programmer takes; a bigger ask is NAKed with this as the counter-offer. */
  readonly maxPayload: number;
  bootableDrive: number | null;
  dropped: boolean;
}

export type FirehoseEnd = 'reset' | 'hangup';

const IDLE_MS = 120_000;
const io = { timeoutMs: IDLE_MS };

export async function serveFirehose(
  link: DeviceLink,
  state: FirehoseDeviceState,
  pending?: Uint8Array,
): Promise<FirehoseEnd> {
  const reader = new FirehoseReader(link, pending);
  const st = state.storage;
  const reply = async (logs: string[], value: 'ACK' | 'NAK', extra: Record<string, string> = {}) => {
    const children: XmlElement[] = logs.map((l) => ({ tag: 'log', attrs: { value: l } }));
    children.push({ tag: 'response', attrs: { value, ...extra } });
    // One document per element, as real programmers send them: qdl reads one document per USB transfer and
    // looks only at its first element, so a response behind a log in the same document is never seen.
    for (const child of children) await link.write(Buffer.from(buildXml([child])), io);
  };
  const nak = (why: string, extra: Record<string, string> = {}) => reply([`ERROR: ${why}`], 'NAK', extra);
  for (;;) {
    let text: string;
    try {
      text = await reader.nextDocument(io);
    } catch (err) {
      if ((err as { code?: string }).code === 'firehose_protocol') {
        // Not XML (e.g. a host still speaking Sahara): say so in XML, which is how a host learns that a
        // programmer already runs; then drop what was buffered.
        // The reader's buffer (the garbage) is dropped with it; what the host sends next starts afresh.
        await reply(['ERROR: expected an XML document'], 'NAK');
        return serveFirehose(link, state);
      }
      return 'hangup';
    }
    let cmd: XmlElement | undefined;
    try {
      cmd = parseXml(text).children[0];
    } catch (err) {
      await nak(`malformed XML (${(err as Error).message})`);
      continue;
    }
    if (!cmd) {
      await nak('empty <data>');
      continue;
    }
    const a = cmd.attrs;
    const sectors = () => {
      const ss = Number(a.SECTOR_SIZE_IN_BYTES);
      if (ss !== st.sectorSize)
        throw new Error(
          `SECTOR_SIZE_IN_BYTES ${a.SECTOR_SIZE_IN_BYTES} but this ${st.type} has ${st.sectorSize}-byte sectors`,
        );
      if ((a.physical_partition_number ?? '0') !== '0')
        throw new Error(`no physical partition ${a.physical_partition_number}`);
      const start = resolveSector(a.start_sector ?? '0', st.totalSectors);
      const count = Number(a.num_partition_sectors ?? st.totalSectors - start);
      if (!Number.isSafeInteger(count) || count < 0 || start + count > st.totalSectors)
        throw new Error(`sectors ${start}+${count} are beyond the disk (${st.totalSectors})`);
      return { start, count, offset: start * st.sectorSize, length: count * st.sectorSize };
    };
    try {
      switch (cmd.tag) {
        case 'configure': {
          if (a.MemoryName !== st.type) {
            await nak(`MemoryName ${a.MemoryName} is not this target's storage (${st.type})`);
            break;
          }
          const asked = Number(a.MaxPayloadSizeToTargetInBytes ?? state.maxPayload);
          const common = {
            MaxPayloadSizeToTargetInBytesSupported: String(state.maxPayload),
            MaxXMLSizeInBytes: '4096',
            MemoryName: st.type,
            TargetName: 'flashline-sim',
            Version: '1',
            MinVersionSupported: '1',
          };
          if (!(asked > 0) || asked > state.maxPayload) {
            await reply([`Requested payload ${asked} is larger than supported`], 'NAK', {
              ...common,
              MaxPayloadSizeToTargetInBytes: String(state.maxPayload),
            });
            break;
          }
          await reply([], 'ACK', {
            ...common,
            MaxPayloadSizeToTargetInBytes: String(asked),
            MaxPayloadSizeFromTargetInBytes: String(asked),
          });
          break;
        }
        case 'program': {
          const r = sectors();
          await reply([], 'ACK', { rawmode: 'true' });
          const bad = state.faults.nakAtSector;
          const failAt = bad !== undefined && bad >= r.start && bad < r.start + r.count ? bad : null;
          for (let at = 0; at < r.length; ) {
            const n = Math.min(1 << 20, r.length - at);
            const drop = state.faults.dropAtByte;
            if (drop !== undefined && !state.dropped && at + n > drop) {
              state.dropped = true;
              if (drop > at) await reader.readRaw(drop - at, io);
              await link.close();
              return 'hangup';
            }
            const data = await reader.readRaw(n, io);
            if (failAt === null) await st.write(r.offset + at, data);
            at += n;
          }
          if (failAt !== null) {
            await reply(
              [`ERROR: write failed at sector ${failAt}`, `Finished sector address ${failAt}`],
              'NAK',
              { rawmode: 'false' },
            );
            break;
          }
          await reply([`Finished programming ${a.label || 'sectors'} at ${r.start}`], 'ACK', {
            rawmode: 'false',
          });
          break;
        }
        case 'read': {
          const r = sectors();
          await reply([], 'ACK', { rawmode: 'true' });
          for (let at = 0; at < r.length; ) {
            const n = Math.min(1 << 20, r.length - at);
            await link.write(await st.read(r.offset + at, n), io);
            at += n;
          }
          await reply([], 'ACK', { rawmode: 'false' });
          break;
        }
        case 'erase': {
          const r = sectors();
          for (let at = 0; at < r.length; ) {
            const n = Math.min(1 << 20, r.length - at);
            await st.write(r.offset + at, Buffer.alloc(n));
            at += n;
          }
          await reply([`Erased ${r.count} sectors at ${r.start}`], 'ACK');
          break;
        }
        case 'patch': {
          if (a.filename !== 'DISK') {
            await reply(['Ignoring a patch for a file (only DISK patches reach the device)'], 'ACK');
            break;
          }
          const r = sectors();
          const size = Number(a.size_in_bytes);
          const byteOffset = Number(a.byte_offset);
          if (!(size > 0 && size <= 8) || !(byteOffset >= 0))
            throw new Error(`patch size ${a.size_in_bytes} at ${a.byte_offset}`);
          const value = await evaluate(a.value ?? '', st);
          const b = Buffer.alloc(8);
          b.writeBigUInt64LE(BigInt.asUintN(64, value));
          await st.write(r.offset + byteOffset, b.subarray(0, size));
          await reply([`Patched sector ${r.start} offset ${byteOffset}`], 'ACK');
          break;
        }
        case 'getsha256digest': {
          const r = sectors();
          await reply([`Digest ${(await st.sha256(r.offset, r.length)).toUpperCase()}`], 'ACK');
          break;
        }
        case 'getstorageinfo':
          await reply(
            [
              JSON.stringify({
                storage_info: {
                  total_blocks: st.totalSectors,
                  block_size: st.sectorSize,
                  page_size: st.sectorSize,
                  num_physical: 1,
                  mem_type: st.type.toUpperCase(),
                  prod_name: 'FLASHLINE-SIM',
                },
              }),
            ],
            'ACK',
          );
          break;
        case 'nop':
          await reply(['Binary build date: simulated'], 'ACK');
          break;
        case 'setbootablestoragedrive':
          state.bootableDrive = Number(a.value ?? 0);
          await reply([`Set bootable drive to ${state.bootableDrive}`], 'ACK');
          break;
        case 'power':
          await reply([`Resetting in ${a.DelayInSeconds ?? 0} s`], 'ACK');
          return 'reset';
        default:
          await nak(`unknown command <${cmd.tag}>`);
      }
    } catch (err) {
      await nak((err as Error).message);
    }
  }
}

/** A patch value: a number, `NUM_DISK_SECTORS-N.`, or `CRC32(start, length)` over the disk. */
async function evaluate(value: string, st: SectorStorage): Promise<bigint> {
  const v = value.trim();
  const crc = /^CRC32\(([^,]+),\s*(\d+)\)$/.exec(v);
  if (crc) {
    const start = resolveSector(crc[1]!.trim(), st.totalSectors);
    return BigInt(crc32(await st.read(start * st.sectorSize, Number(crc[2]))));
  }
  return BigInt(resolveSector(v, st.totalSectors));
}
