/**
 * Who signed a programmer. A real Firehose programmer is an ELF whose hash segment carries a certificate
 * chain; the device accepts it only when the root certificate's hash equals its fused OEM PK hash. Parsing
 * Qualcomm's certificate chain is later work (docs/edl.md), so the host reads the signer from the
 * **simulation format** the virtual device uses, and refuses files it cannot read a signer from unless the
 * caller explicitly allows that.
 *
 * Simulation format (all little-endian):
 *   0x00  ELF32 header (0x34 bytes): 7F 'E' 'L' 'F', class 1, data 1, version 1; e_phoff = 0x34, e_phnum = 1
 *   0x34  one program header (0x20 bytes), p_offset = 0x54, p_filesz = file size - 0x54
 *   0x54  "FLASHLINE-SIMSIG" (16 ASCII bytes)
 *   0x64  OEM PK hash the programmer is signed for (32 bytes, SHA-256)
 *   0x84  free text (the programmer's "code"), any length
 */
import { open } from 'node:fs/promises';

export const SIM_SIGNATURE_TAG = 'FLASHLINE-SIMSIG';
export const SIM_SIGNATURE_OFFSET = 0x54;
export const SIM_HEADER_SIZE = 0x84;

/** Parse the signer from the first SIM_HEADER_SIZE bytes; null when they are not the simulation format. */
export function simulatedSigner(head: Uint8Array): Uint8Array | null {
  if (head.byteLength < SIM_HEADER_SIZE) return null;
  if (head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return null;
  const tag = new TextDecoder().decode(head.subarray(SIM_SIGNATURE_OFFSET, SIM_SIGNATURE_OFFSET + 16));
  if (tag !== SIM_SIGNATURE_TAG) return null;
  return head.slice(SIM_SIGNATURE_OFFSET + 16, SIM_HEADER_SIZE);
}

/**
 * A programmer: a file path, or its bytes already verified (a rescue package's programmer; programmers are
 * a few hundred KiB, bounded by the package reader's caller).
 */
export type ProgrammerSource = string | Uint8Array;

/** Positioned reads over a programmer, the part of a FileHandle the Sahara upload uses. */
export interface ProgrammerReader {
  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

export async function openProgrammer(source: ProgrammerSource): Promise<ProgrammerReader> {
  if (typeof source === 'string') return open(source, 'r');
  return {
    async read(buf, offset, length, position) {
      const piece = source.subarray(position, position + length);
      buf.set(piece, offset);
      return { bytesRead: piece.byteLength };
    },
    async stat() {
      return { size: source.byteLength };
    },
    async close() {},
  };
}

/** Read a programmer's size and signer (only its header is read). */
export async function inspectProgrammer(
  source: ProgrammerSource,
): Promise<{ size: number; signer: Uint8Array | null }> {
  const fh = await openProgrammer(source);
  try {
    const { size } = await fh.stat();
    const head = new Uint8Array(SIM_HEADER_SIZE);
    const { bytesRead } = await fh.read(head, 0, SIM_HEADER_SIZE, 0);
    return { size, signer: simulatedSigner(head.subarray(0, bytesRead)) };
  } finally {
    await fh.close();
  }
}

/** Build a simulated programmer signed for `oemPkHash` (tests, make-rescue-dir). */
export function buildSimulatedProgrammer(
  oemPkHash: Uint8Array,
  text = 'flashline simulated firehose',
): Uint8Array {
  if (oemPkHash.byteLength !== 32) throw new RangeError('the OEM PK hash is 32 bytes (SHA-256)');
  const body = new TextEncoder().encode(text);
  const out = new Uint8Array(SIM_HEADER_SIZE + body.byteLength);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  v.setUint16(0x10, 2, true); // e_type EXEC
  v.setUint16(0x12, 0xf3, true); // e_machine: any value; the simulation does not run it
  v.setUint32(0x14, 1, true);
  v.setUint32(0x1c, 0x34, true); // e_phoff
  v.setUint16(0x28, 0x34, true); // e_ehsize
  v.setUint16(0x2a, 0x20, true); // e_phentsize
  v.setUint16(0x2c, 1, true); // e_phnum
  v.setUint32(0x34, 1, true); // p_type LOAD
  v.setUint32(0x38, SIM_SIGNATURE_OFFSET, true);
  v.setUint32(0x44, out.byteLength - SIM_SIGNATURE_OFFSET, true);
  out.set(new TextEncoder().encode(SIM_SIGNATURE_TAG), SIM_SIGNATURE_OFFSET);
  out.set(oemPkHash, SIM_SIGNATURE_OFFSET + 16);
  out.set(body, SIM_HEADER_SIZE);
  return out;
}
