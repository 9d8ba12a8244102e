/**
 * ADB wire codec, shared by the host client and the virtual device's server (pure functions, no I/O).
 * Facts from AOSP packages/modules/adb/protocol.txt: every message is a 24-byte little-endian header
 * (command, arg0, arg1, data_length, data_check, magic) followed by `data_length` payload bytes;
 * magic = command ^ 0xffffffff; data_check is the unsigned byte sum of the payload. From protocol version
 * 0x01000001 on, receivers skip the data_check test (AOSP adb then sends 0; we always send the real sum,
 * which every version accepts). The largest payload a side accepts is announced in CNXN's arg1.
 */
import { AdbProtocolError } from './contract.js';

export const ADB_COMMANDS = {
  SYNC: 0x434e5953,
  CNXN: 0x4e584e43,
  AUTH: 0x48545541,
  OPEN: 0x4e45504f,
  OKAY: 0x59414b4f,
  CLSE: 0x45534c43,
  WRTE: 0x45545257,
  STLS: 0x534c5453,
} as const;
export type AdbCommand = keyof typeof ADB_COMMANDS;

const COMMAND_NAMES = new Map<number, AdbCommand>(
  Object.entries(ADB_COMMANDS).map(([name, code]) => [code, name as AdbCommand]),
);

/** The version we speak: checksums optional. */
export const ADB_VERSION = 0x01000001;
export const ADB_VERSION_MIN = 0x01000000;
export const ADB_VERSION_SKIP_CHECKSUM = 0x01000001;
/** Largest payload we accept (AOSP's MAX_PAYLOAD since Android 9); peers announce theirs in CNXN. */
export const ADB_MAX_PAYLOAD = 1024 * 1024;
/** What pre-2016 devices accept; the floor we negotiate down to. */
export const ADB_MAX_PAYLOAD_V1 = 4096;
export const ADB_HEADER_LENGTH = 24;

/** AUTH arg0 values. */
export const ADB_AUTH = { TOKEN: 1, SIGNATURE: 2, RSAPUBLICKEY: 3 } as const;
/** Length of the random token a device sends in AUTH(TOKEN). */
export const ADB_AUTH_TOKEN_LENGTH = 20;

export interface AdbMessage {
  readonly command: AdbCommand;
  readonly arg0: number;
  readonly arg1: number;
  readonly payload: Uint8Array;
}

export interface AdbHeader {
  readonly command: AdbCommand;
  readonly arg0: number;
  readonly arg1: number;
  readonly dataLength: number;
  readonly dataCheck: number;
}

/** Unsigned 32-bit sum of the payload bytes (what protocol.txt calls the checksum). */
export function adbChecksum(payload: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < payload.byteLength; i++) sum += payload[i]!;
  return sum >>> 0;
}

export function encodeHeader(msg: AdbMessage): Uint8Array {
  const out = new Uint8Array(ADB_HEADER_LENGTH);
  const view = new DataView(out.buffer);
  const code = ADB_COMMANDS[msg.command];
  view.setUint32(0, code, true);
  view.setUint32(4, msg.arg0 >>> 0, true);
  view.setUint32(8, msg.arg1 >>> 0, true);
  view.setUint32(12, msg.payload.byteLength, true);
  view.setUint32(16, adbChecksum(msg.payload), true);
  view.setUint32(20, (code ^ 0xffffffff) >>> 0, true);
  return out;
}

/** Header and payload in one buffer (what a byte stream carries). */
export function encodeMessage(msg: AdbMessage): Uint8Array {
  const out = new Uint8Array(ADB_HEADER_LENGTH + msg.payload.byteLength);
  out.set(encodeHeader(msg));
  out.set(msg.payload, ADB_HEADER_LENGTH);
  return out;
}

/**
 * Decode and check a header: known command, magic, payload no larger than `maxPayload`.
 * @throws AdbProtocolError
 */
export function decodeHeader(bytes: Uint8Array, maxPayload: number): AdbHeader {
  if (bytes.byteLength !== ADB_HEADER_LENGTH) {
    throw new AdbProtocolError(`an ADB header is 24 bytes, got ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, ADB_HEADER_LENGTH);
  const code = view.getUint32(0, true);
  const magic = view.getUint32(20, true);
  if (magic !== (code ^ 0xffffffff) >>> 0) {
    throw new AdbProtocolError(
      `bad ADB header magic 0x${magic.toString(16)} for command 0x${code.toString(16)}; the peer does not speak ADB or the stream is out of step`,
    );
  }
  const command = COMMAND_NAMES.get(code);
  if (!command) throw new AdbProtocolError(`unknown ADB command 0x${code.toString(16)}`);
  const dataLength = view.getUint32(12, true);
  if (dataLength > maxPayload) {
    throw new AdbProtocolError(
      `ADB ${command} announces a ${dataLength}-byte payload, more than the agreed maximum of ${maxPayload}`,
    );
  }
  return {
    command,
    arg0: view.getUint32(4, true),
    arg1: view.getUint32(8, true),
    dataLength,
    dataCheck: view.getUint32(16, true),
  };
}

/** Check the payload against its header; `verifyChecksum` only below version 0x01000001. @throws AdbProtocolError */
export function checkPayload(header: AdbHeader, payload: Uint8Array, verifyChecksum: boolean): AdbMessage {
  if (payload.byteLength !== header.dataLength) {
    throw new AdbProtocolError(
      `ADB ${header.command} payload is ${payload.byteLength} bytes, the header said ${header.dataLength}`,
    );
  }
  if (verifyChecksum && adbChecksum(payload) !== header.dataCheck) {
    throw new AdbProtocolError(`ADB ${header.command} payload checksum does not match its header`);
  }
  return { command: header.command, arg0: header.arg0, arg1: header.arg1, payload };
}

/**
 * Byte stream → messages, whatever the chunking. Holds at most one header and one payload; the payload limit
 * and checksum rule can change once CNXN is exchanged.
 */
export class AdbMessageParser {
  #buffer: Uint8Array = new Uint8Array(0);
  #header: AdbHeader | null = null;
  maxPayload: number;
  verifyChecksum: boolean;

  constructor(maxPayload = ADB_MAX_PAYLOAD, verifyChecksum = false) {
    this.maxPayload = maxPayload;
    this.verifyChecksum = verifyChecksum;
  }

  /** Feed bytes; returns the messages completed by them. @throws AdbProtocolError */
  push(chunk: Uint8Array): AdbMessage[] {
    this.#buffer = this.#buffer.byteLength === 0 ? chunk : concat(this.#buffer, chunk);
    const out: AdbMessage[] = [];
    for (;;) {
      if (!this.#header) {
        if (this.#buffer.byteLength < ADB_HEADER_LENGTH) return out;
        this.#header = decodeHeader(this.#buffer.subarray(0, ADB_HEADER_LENGTH), this.maxPayload);
        this.#buffer = this.#buffer.subarray(ADB_HEADER_LENGTH);
      }
      const need = this.#header.dataLength;
      if (this.#buffer.byteLength < need) return out;
      // Copy: the caller may keep the payload while the stream reuses its buffers.
      const payload = this.#buffer.slice(0, need);
      this.#buffer = this.#buffer.subarray(need);
      out.push(checkPayload(this.#header, payload, this.verifyChecksum));
      this.#header = null;
    }
  }

  /** Bytes received but not yet part of a complete message. */
  get pending(): number {
    return this.#buffer.byteLength + (this.#header ? ADB_HEADER_LENGTH : 0);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A NUL-terminated string payload (OPEN destinations, RSAPUBLICKEY), as AOSP sends them. */
export function cString(text: string): Uint8Array {
  return utf8.encode(`${text}\0`);
}

/** A payload as text, without the trailing NULs some peers add. */
export function payloadText(payload: Uint8Array): string {
  return utf8Decoder.decode(payload).replace(/\0+$/, '');
}

/** The parts of a CNXN banner: `STATE:SERIAL:key=value;key=value;features=a,b`. */
export interface ParsedBanner {
  readonly state: string;
  readonly properties: Record<string, string>;
  readonly features: string[];
}

export function parseBanner(text: string): ParsedBanner {
  const clean = text.replace(/\0+$/, '');
  const first = clean.indexOf(':');
  const state = first < 0 ? clean : clean.slice(0, first);
  // The middle field (serial) is empty in modern banners; properties follow the second colon.
  const second = first < 0 ? -1 : clean.indexOf(':', first + 1);
  const rest = second < 0 ? '' : clean.slice(second + 1);
  const properties: Record<string, string> = {};
  let features: string[] = [];
  for (const part of rest.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (key === 'features') features = value.split(',').filter((f) => f.length > 0);
    else properties[key] = value;
  }
  return { state, properties, features };
}

export function formatBanner(
  state: string,
  properties: Readonly<Record<string, string>>,
  features: readonly string[],
): string {
  const props = Object.entries(properties).map(([k, v]) => `${k}=${v};`);
  return `${state}::${props.join('')}features=${features.join(',')}`;
}
