/**
 * The shell v2 protocol (AOSP packages/modules/adb/shell_protocol.h): inside a `shell,v2,…:` stream every
 * packet is one id byte, a 32-bit little-endian length and that many bytes. Ids: stdin 0, stdout 1,
 * stderr 2, exit 3 (one byte: the status), close-stdin 4, window-size-change 5. Pure, shared with the device.
 */
import { AdbProtocolError } from './contract.js';

export const SHELL_ID = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  exit: 3,
  closeStdin: 4,
  windowSizeChange: 5,
} as const;

export interface ShellPacket {
  readonly id: number;
  readonly data: Uint8Array;
}

const SHELL_HEADER = 5;

export function encodeShellPacket(id: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(SHELL_HEADER + data.byteLength);
  out[0] = id;
  new DataView(out.buffer).setUint32(1, data.byteLength, true);
  out.set(data, SHELL_HEADER);
  return out;
}

/** Stream data → shell packets, whatever the chunking; refuses packets above `maxPacket`. */
export class ShellPacketParser {
  #buffer: Uint8Array = new Uint8Array(0);
  constructor(private readonly maxPacket = 1024 * 1024) {}

  /** @throws AdbProtocolError */
  push(chunk: Uint8Array): ShellPacket[] {
    const merged = new Uint8Array(this.#buffer.byteLength + chunk.byteLength);
    merged.set(this.#buffer);
    merged.set(chunk, this.#buffer.byteLength);
    let rest = merged;
    const out: ShellPacket[] = [];
    while (rest.byteLength >= SHELL_HEADER) {
      const length = new DataView(rest.buffer, rest.byteOffset, SHELL_HEADER).getUint32(1, true);
      if (length > this.maxPacket) {
        throw new AdbProtocolError(`shell v2 packet of ${length} bytes exceeds ${this.maxPacket}`);
      }
      if (rest.byteLength < SHELL_HEADER + length) break;
      out.push({ id: rest[0]!, data: rest.slice(SHELL_HEADER, SHELL_HEADER + length) });
      rest = rest.subarray(SHELL_HEADER + length);
    }
    this.#buffer = rest.slice();
    return out;
  }

  get pending(): number {
    return this.#buffer.byteLength;
  }
}

/**
 * A shell service name: `shell:CMD` (v1) or `shell,v2,raw,TERM=…:CMD`. Returns null for other services.
 */
export function parseShellService(service: string): { v2: boolean; args: string[]; command: string } | null {
  const colon = service.indexOf(':');
  if (colon < 0) return null;
  const [name, ...args] = service.slice(0, colon).split(',');
  if (name !== 'shell') return null;
  return { v2: args.includes('v2'), args, command: service.slice(colon + 1) };
}
