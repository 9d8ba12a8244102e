/**
 * Sahara host client over a byte stream (serial COM port, TCP to the virtual device). Host-driven only in
 * reply: the device speaks first (HELLO), the host answers, and every wait is bounded.
 *
 * - identify(): command mode — serial number, MSM HW id, OEM PK hash (READ_CHIP_ID_V3 on v3 devices), then
 *   SWITCH_MODE back to image transfer (the device says HELLO again).
 * - uploadProgrammer(): image transfer mode, answering READ_DATA/READ_DATA64 with positioned reads of the file
 *   (never the whole file in memory), END_OF_IMAGE → DONE → DONE_RESP.
 * - If the first HELLO does not come within helloTimeoutMs the host sends an unsolicited HELLO_RESP, as qdl
 *   does: a driver may have swallowed the device's HELLO, and the device then still waits for our answer.
 * - A reply starting `<?xml` means a programmer already runs: FirehoseAlreadyRunningError.
 */
import { TimeoutError } from '../../transport/errors.js';
import type { ByteProgress, StreamLink } from '../../transport/types.js';
import {
  FirehoseAlreadyRunningError,
  ProgrammerRefusedError,
  SaharaProtocolError,
  SaharaStatusError,
} from './errors.js';
import { inspectProgrammer, openProgrammer, type ProgrammerSource } from './programmer.js';
import {
  decodeChipIdV3,
  decodeSahara,
  decodeSaharaHeader,
  encodeSahara,
  looksLikeXml,
  SAHARA_EXEC,
  SAHARA_HEADER_SIZE,
  SAHARA_MODE,
  type SaharaPacket,
  SaharaWireError,
} from './wire.js';

export interface SaharaClientOptions {
  /** Wait for the first HELLO before answering unsolicited (qdl: 1 s). */
  readonly helloTimeoutMs?: number;
  /** Every other packet (qdl: 1 s; 5 s by default here: serial adapters and busy hosts are slower). */
  readonly readTimeoutMs?: number;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface SaharaIdentity {
  /** HELLO version (2 or 3 on real devices). */
  readonly version: number;
  readonly serialNumber?: number;
  /** MSM HW id as 16 hex digits. */
  readonly msmHwId?: string;
  /** OEM public key hash (first 32 bytes; devices repeat it), hex. */
  readonly oemPkHash?: string;
  readonly chipId?: { readonly msmId: number; readonly oemId: number; readonly modelId: number };
  /** Client commands the device refused (v3 devices refuse 0x02/0x03), with the status. */
  readonly refused: readonly { readonly clientCommand: number; readonly status: number }[];
}

export interface UploadOptions extends CallOptions {
  /** The device's OEM PK hash (hex, from identify()); a programmer signed for another key is refused. */
  readonly expectedOemPkHash?: string;
  /** Send a programmer whose signer cannot be read (real vendor ELFs today); default false. */
  readonly allowUnknownSigner?: boolean;
  readonly onProgress?: ByteProgress;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const READ_CHUNK = 1 << 20;

export class SaharaClient {
  readonly link: StreamLink;
  readonly #helloTimeoutMs: number;
  readonly #readTimeoutMs: number;
  #version = 2;

  constructor(link: StreamLink, opts: SaharaClientOptions = {}) {
    this.link = link;
    this.#helloTimeoutMs = opts.helloTimeoutMs ?? 1000;
    this.#readTimeoutMs = opts.readTimeoutMs ?? 5000;
  }

  async #read(timeoutMs: number, opts: CallOptions): Promise<SaharaPacket> {
    const io = { timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) };
    const head = await this.link.readExactly(SAHARA_HEADER_SIZE, io);
    if (looksLikeXml(head)) throw new FirehoseAlreadyRunningError(head);
    try {
      const { length } = decodeSaharaHeader(head);
      const rest =
        length > SAHARA_HEADER_SIZE ? await this.link.readExactly(length - SAHARA_HEADER_SIZE, io) : null;
      const whole = new Uint8Array(length);
      whole.set(head);
      if (rest) whole.set(rest, SAHARA_HEADER_SIZE);
      return decodeSahara(whole);
    } catch (err) {
      if (err instanceof SaharaWireError) throw new SaharaProtocolError(err.message, { cause: err });
      throw err;
    }
  }

  #send(p: SaharaPacket, opts: CallOptions): Promise<void> {
    return this.link.write(encodeSahara(p), {
      timeoutMs: this.#readTimeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  #helloResp(mode: number, opts: CallOptions): Promise<void> {
    // qdl answers version 2, compatible 1, status 0, echoing the mode it wants.
    return this.#send({ cmd: 'helloResp', version: 2, compatible: 1, value: 0, mode }, opts);
  }

  /** Wait for HELLO (with the unsolicited-answer retry), answer it, return the first packet after it. */
  async #start(mode: number, opts: CallOptions): Promise<SaharaPacket> {
    let first: SaharaPacket;
    try {
      first = await this.#read(this.#helloTimeoutMs, opts);
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      await this.#helloResp(mode, opts);
      first = await this.#read(this.#readTimeoutMs, opts);
    }
    // A HELLO (the expected one, or a late one after our unsolicited answer) gets a HELLO_RESP; the device
    // ignores a second answer.
    while (first.cmd === 'hello') {
      this.#version = first.version;
      await this.#helloResp(mode, opts);
      first = await this.#read(this.#readTimeoutMs, opts);
    }
    return first;
  }

  async #execute(
    clientCommand: number,
    opts: CallOptions,
  ): Promise<{ data: Uint8Array } | { status: number }> {
    await this.#send({ cmd: 'execute', clientCommand }, opts);
    const resp = await this.#read(this.#readTimeoutMs, opts);
    if (resp.cmd === 'endOfImage') return { status: resp.status };
    if (resp.cmd !== 'executeResp' || resp.clientCommand !== clientCommand)
      throw new SaharaProtocolError(
        `${resp.cmd} where EXECUTE_RESP for 0x${clientCommand.toString(16)} was expected`,
      );
    if (resp.dataLength > 4096)
      throw new SaharaProtocolError(`EXECUTE_RESP announces ${resp.dataLength} bytes`);
    await this.#send({ cmd: 'executeData', clientCommand }, opts);
    const data = await this.link.readExactly(resp.dataLength, {
      timeoutMs: this.#readTimeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { data };
  }

  /** Command mode: read who the device is, then switch back so a programmer can be sent. */
  async identify(opts: CallOptions = {}): Promise<SaharaIdentity> {
    const ready = await this.#start(SAHARA_MODE.command, opts);
    if (ready.cmd === 'endOfImage') throw new SaharaStatusError('command mode', ready.status);
    if (ready.cmd !== 'cmdReady') throw new SaharaProtocolError(`${ready.cmd} where CMD_READY was expected`);
    const refused: { clientCommand: number; status: number }[] = [];
    const run = async (c: number) => {
      const r = await this.#execute(c, opts);
      if ('status' in r) {
        refused.push({ clientCommand: c, status: r.status });
        return null;
      }
      return r.data;
    };
    const out: { -readonly [K in keyof SaharaIdentity]: SaharaIdentity[K] } = {
      version: this.#version,
      refused,
    };
    const serial = await run(SAHARA_EXEC.serialNumber);
    if (serial && serial.byteLength >= 4) out.serialNumber = Buffer.from(serial).readUInt32LE(0);
    // v3 ROMs refuse the MSM HW id; when HELLO was swallowed the version is unknown, so a refusal of 0x02
    // is also the cue to ask READ_CHIP_ID_V3.
    const hw = this.#version >= 3 ? null : await run(SAHARA_EXEC.msmHwId);
    if (hw && hw.byteLength >= 8)
      out.msmHwId = Buffer.from(hw).readBigUInt64LE(0).toString(16).padStart(16, '0');
    else {
      const chip = await run(SAHARA_EXEC.chipIdV3);
      if (chip) out.chipId = decodeChipIdV3(chip);
    }
    const pk = await run(SAHARA_EXEC.oemPkHash);
    if (pk && pk.byteLength >= 32) out.oemPkHash = hex(pk.subarray(0, 32));
    await this.#send({ cmd: 'switchMode', mode: SAHARA_MODE.imageTxPending }, opts);
    return out;
  }

  /**
   * Send a programmer. Its signer is checked against `expectedOemPkHash` before anything is sent; the file
   * is read piece by piece as the device asks for it.
   * @throws ProgrammerRefusedError, SaharaStatusError, SaharaProtocolError, FirehoseAlreadyRunningError
   */
  async uploadProgrammer(programmer: ProgrammerSource, opts: UploadOptions = {}): Promise<void> {
    const path = typeof programmer === 'string' ? programmer : 'the programmer';
    const { size, signer } = await inspectProgrammer(programmer);
    if (!signer && !opts.allowUnknownSigner)
      throw new ProgrammerRefusedError(
        `cannot tell which OEM key signed ${path}; use a programmer from the device's rescue package`,
      );
    if (signer && opts.expectedOemPkHash && hex(signer) !== opts.expectedOemPkHash.toLowerCase())
      throw new ProgrammerRefusedError(
        `it is signed for OEM key ${hex(signer)} but the device reports ${opts.expectedOemPkHash}; use the programmer made for this device`,
        { programmerSigner: hex(signer), deviceOemPkHash: opts.expectedOemPkHash },
      );
    const fh = await openProgrammer(programmer);
    try {
      let p = await this.#start(SAHARA_MODE.imageTxPending, opts);
      let sent = 0;
      for (;;) {
        if (p.cmd === 'endOfImage') {
          if (p.status !== 0) throw new SaharaStatusError(`the programmer (image ${p.image})`, p.status);
          break;
        }
        if (p.cmd !== 'readData') throw new SaharaProtocolError(`${p.cmd} during the image transfer`);
        if (p.offset + p.length > size)
          throw new SaharaProtocolError(
            `READ_DATA ${p.offset}+${p.length} beyond the ${size}-byte programmer`,
          );
        for (let done = 0; done < p.length; ) {
          const n = Math.min(READ_CHUNK, p.length - done);
          const buf = new Uint8Array(n);
          const { bytesRead } = await fh.read(buf, 0, n, p.offset + done);
          if (bytesRead !== n) throw new ProgrammerRefusedError(`${path} changed while it was being sent`);
          await this.link.write(buf, {
            timeoutMs: this.#readTimeoutMs,
            ...(opts.signal ? { signal: opts.signal } : {}),
          });
          done += n;
        }
        sent += p.length;
        opts.onProgress?.(Math.min(sent, size), size);
        p = await this.#read(this.#readTimeoutMs, opts);
      }
      await this.#send({ cmd: 'done' }, opts);
      const resp = await this.#read(this.#readTimeoutMs, opts);
      // DONE_RESP status 1 = complete; some SoCs say 0 ("pending") after the programmer: tolerated.
      if (resp.cmd !== 'doneResp') throw new SaharaProtocolError(`${resp.cmd} where DONE_RESP was expected`);
    } finally {
      await fh.close();
    }
  }

  /** Ask the device to reset (RESET → RESET_RESP). */
  async reset(opts: CallOptions = {}): Promise<void> {
    await this.#send({ cmd: 'reset' }, opts);
    const r = await this.#read(this.#readTimeoutMs, opts);
    if (r.cmd !== 'resetResp') throw new SaharaProtocolError(`${r.cmd} where RESET_RESP was expected`);
  }
}
