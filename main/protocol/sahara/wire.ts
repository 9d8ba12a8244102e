/**
 * Sahara wire codec (Qualcomm boot ROM protocol that loads a signed programmer), pure and shared with the
 * virtual device. Facts from linux-msm/qdl (sahara.c) and bkerler/edl (edlclient/Library/sahara_defs.py),
 * gathered in docs/edl.md: every packet starts `u32 cmd, u32 length` (little-endian, length includes the
 * header); READ_DATA replies and EXECUTE_DATA payloads are raw bytes with no header.
 */

export const SAHARA_CMD = {
  hello: 0x01,
  helloResp: 0x02,
  readData: 0x03,
  endOfImage: 0x04,
  done: 0x05,
  doneResp: 0x06,
  reset: 0x07,
  resetResp: 0x08,
  memDebug: 0x09,
  memRead: 0x0a,
  cmdReady: 0x0b,
  switchMode: 0x0c,
  execute: 0x0d,
  executeResp: 0x0e,
  executeData: 0x0f,
  memDebug64: 0x10,
  memRead64: 0x11,
  readData64: 0x12,
} as const;

export const SAHARA_MODE = {
  imageTxPending: 0,
  imageTxComplete: 1,
  memoryDebug: 2,
  command: 3,
} as const;

/** Client commands run in command mode (EXECUTE). */
export const SAHARA_EXEC = {
  serialNumber: 0x01,
  msmHwId: 0x02,
  oemPkHash: 0x03,
  sblVersion: 0x07,
  commandList: 0x08,
  /** v3 devices: one record with MSM id, OEM id and model id (they often refuse 0x02/0x03). */
  chipIdV3: 0x0a,
} as const;

/** Image id the boot ROM asks for when it wants a Firehose programmer. */
export const SAHARA_IMAGE_FIREHOSE = 13;
export const SAHARA_HEADER_SIZE = 8;
/** Largest packet a device announces (max_cmd_len); anything longer is a broken stream. */
export const SAHARA_MAX_PACKET = 4096;

/** END_OF_IMAGE / HELLO_RESP status codes with what they mean (sahara_defs.py, qdl sahara.c). */
export const SAHARA_STATUS: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'invalid command received in the current state',
  2: 'protocol version mismatch between host and target',
  3: 'invalid target protocol version',
  4: 'invalid host protocol version',
  5: 'invalid packet size received',
  6: 'unexpected image id received',
  7: 'invalid image header size',
  8: 'invalid image data size',
  9: 'invalid image type',
  10: 'invalid transmission length',
  11: 'invalid reception length',
  12: 'general transmission or reception error',
  13: 'error while transmitting READ_DATA',
  14: 'cannot receive the specified number of program headers',
  15: 'invalid data length in a program header',
  16: 'multiple shared segments in the ELF image',
  17: 'uninitialized program header location',
  18: 'invalid destination address',
  19: 'invalid data size in the image header',
  20: 'invalid ELF header',
  21: 'unknown host error',
  22: 'timeout while receiving data',
  23: 'timeout while transmitting data',
  24: 'invalid mode received from the host',
  25: 'invalid memory read access',
  26: 'host cannot handle the read data size requested',
  27: 'memory debug not supported',
  28: 'invalid mode switch',
  29: 'failed to execute the command',
  30: 'invalid parameter passed to the command',
  31: 'unsupported client command',
  32: 'invalid client command received',
  33: 'failed to authenticate the hash table',
  34: 'failed to verify the hash table signature',
  35: 'invalid ELF hash table',
  36: 'invalid image hash',
  37: 'image authentication failed (the programmer is not signed for this device)',
  38: 'failed to verify the hash of the image',
  39: 'USB enumeration failed',
  40: 'hardware bulk transfer error',
};

export function saharaStatusText(status: number): string {
  return SAHARA_STATUS[status] ?? `unknown status 0x${status.toString(16)}`;
}

export type SaharaPacket =
  | {
      readonly cmd: 'hello' | 'helloResp';
      readonly version: number;
      readonly compatible: number;
      /** HELLO: max_cmd_len; HELLO_RESP: status. */
      readonly value: number;
      readonly mode: number;
    }
  | { readonly cmd: 'readData'; readonly image: number; readonly offset: number; readonly length: number }
  | { readonly cmd: 'endOfImage'; readonly image: number; readonly status: number }
  | { readonly cmd: 'done' | 'reset' | 'resetResp' | 'cmdReady' }
  | { readonly cmd: 'doneResp'; readonly status: number }
  | { readonly cmd: 'switchMode'; readonly mode: number }
  | { readonly cmd: 'execute'; readonly clientCommand: number }
  | { readonly cmd: 'executeResp'; readonly clientCommand: number; readonly dataLength: number }
  | { readonly cmd: 'executeData'; readonly clientCommand: number };

export class SaharaWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaharaWireError';
  }
}

const LENGTHS = {
  hello: 0x30,
  helloResp: 0x30,
  readData: 0x14,
  readData64: 0x20,
  endOfImage: 0x10,
  done: 8,
  doneResp: 0x0c,
  reset: 8,
  resetResp: 8,
  cmdReady: 8,
  switchMode: 0x0c,
  execute: 0x0c,
  executeResp: 0x10,
  executeData: 0x0c,
} as const;

function words(cmd: number, ...values: number[]): Uint8Array {
  const out = new Uint8Array(8 + values.length * 4);
  const v = new DataView(out.buffer);
  v.setUint32(0, cmd, true);
  v.setUint32(4, out.byteLength, true);
  for (const [i, x] of values.entries()) v.setUint32(8 + i * 4, x >>> 0, true);
  return out;
}

/**
 * Encode a packet. READ_DATA uses the 32-bit form while every field fits, READ_DATA64 otherwise (or when
 * `wide` is asked for: a v3 device may send only the 64-bit form).
 */
export function encodeSahara(p: SaharaPacket, wide = false): Uint8Array {
  switch (p.cmd) {
    case 'hello':
    case 'helloResp':
      return words(SAHARA_CMD[p.cmd], p.version, p.compatible, p.value, p.mode, 0, 0, 0, 0, 0, 0);
    case 'readData': {
      const fits = p.offset <= 0xffffffff && p.length <= 0xffffffff && p.image <= 0xffffffff;
      if (fits && !wide) return words(SAHARA_CMD.readData, p.image, p.offset, p.length);
      const out = new Uint8Array(LENGTHS.readData64);
      const v = new DataView(out.buffer);
      v.setUint32(0, SAHARA_CMD.readData64, true);
      v.setUint32(4, out.byteLength, true);
      v.setBigUint64(8, BigInt(p.image), true);
      v.setBigUint64(16, BigInt(p.offset), true);
      v.setBigUint64(24, BigInt(p.length), true);
      return out;
    }
    case 'endOfImage':
      return words(SAHARA_CMD.endOfImage, p.image, p.status);
    case 'done':
    case 'reset':
    case 'resetResp':
    case 'cmdReady':
      return words(SAHARA_CMD[p.cmd]);
    case 'doneResp':
      return words(SAHARA_CMD.doneResp, p.status);
    case 'switchMode':
      return words(SAHARA_CMD.switchMode, p.mode);
    case 'execute':
      return words(SAHARA_CMD.execute, p.clientCommand);
    case 'executeResp':
      return words(SAHARA_CMD.executeResp, p.clientCommand, p.dataLength);
    case 'executeData':
      return words(SAHARA_CMD.executeData, p.clientCommand);
  }
}

/** Read the header: command and total length (validated against what that command allows). */
export function decodeSaharaHeader(bytes: Uint8Array): { cmd: number; length: number } {
  if (bytes.byteLength < SAHARA_HEADER_SIZE) throw new SaharaWireError('short header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cmd = v.getUint32(0, true);
  const length = v.getUint32(4, true);
  if (length < SAHARA_HEADER_SIZE || length > SAHARA_MAX_PACKET)
    throw new SaharaWireError(`packet length ${length} is outside 8..${SAHARA_MAX_PACKET}`);
  return { cmd, length };
}

const NAMES = new Map<number, keyof typeof LENGTHS>(
  Object.entries(SAHARA_CMD)
    .filter(([k]) => k in LENGTHS)
    .map(([k, v]) => [v, k as keyof typeof LENGTHS]),
);

/** Decode a whole packet (header included). Unknown commands and short packets are wire errors. */
export function decodeSahara(bytes: Uint8Array): SaharaPacket {
  const { cmd, length } = decodeSaharaHeader(bytes);
  const name = NAMES.get(cmd);
  if (!name) throw new SaharaWireError(`unknown command 0x${cmd.toString(16)}`);
  if (length !== bytes.byteLength)
    throw new SaharaWireError(`length field ${length} but ${bytes.byteLength} bytes`);
  // HELLO may carry more reserved words on newer ROMs; every other packet has its exact size.
  const min = LENGTHS[name];
  if (name === 'hello' || name === 'helloResp' ? length < min : length !== min)
    throw new SaharaWireError(`${name} of ${length} bytes (expected ${min})`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number) => v.getUint32(at, true);
  const u64 = (at: number) => {
    const x = v.getBigUint64(at, true);
    if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new SaharaWireError(`64-bit field ${x} is too large`);
    return Number(x);
  };
  switch (name) {
    case 'hello':
    case 'helloResp':
      return { cmd: name, version: u32(8), compatible: u32(12), value: u32(16), mode: u32(20) };
    case 'readData':
      return { cmd: 'readData', image: u32(8), offset: u32(12), length: u32(16) };
    case 'readData64':
      return { cmd: 'readData', image: u64(8), offset: u64(16), length: u64(24) };
    case 'endOfImage':
      return { cmd: name, image: u32(8), status: u32(12) };
    case 'done':
    case 'reset':
    case 'resetResp':
    case 'cmdReady':
      return { cmd: name };
    case 'doneResp':
      return { cmd: name, status: u32(8) };
    case 'switchMode':
      return { cmd: name, mode: u32(8) };
    case 'execute':
    case 'executeData':
      return { cmd: name, clientCommand: u32(8) };
    case 'executeResp':
      return { cmd: name, clientCommand: u32(8), dataLength: u32(12) };
  }
}

/** What READ_CHIP_ID_V3 (client command 0x0A) returns: MSM id u32 @36, OEM id u16 @40, model id u16 @42. */
export function decodeChipIdV3(data: Uint8Array): { msmId: number; oemId: number; modelId: number } {
  if (data.byteLength < 44) throw new SaharaWireError(`chip id record of ${data.byteLength} bytes (need 44)`);
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { msmId: v.getUint32(36, true), oemId: v.getUint16(40, true), modelId: v.getUint16(42, true) };
}

/** `<?xml` at the start of a reply: a Firehose programmer already runs (the boot ROM never sends it). */
export function looksLikeXml(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 5 && new TextDecoder().decode(bytes.subarray(0, 5)) === '<?xml';
}
