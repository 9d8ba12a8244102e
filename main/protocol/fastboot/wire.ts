/**
 * fastboot wire codecs, shared by the host client and the virtual device (pure functions, no I/O).
 * See AOSP system/core/fastboot/README.md: a command is one ASCII packet of at most 4096 bytes; a response is
 * one packet of at most 256 bytes starting with OKAY, FAIL, DATA, INFO or TEXT.
 */

export const MAX_COMMAND_LENGTH = 4096;
export const MAX_RESPONSE_LENGTH = 256;

export const RESPONSE_TYPES = ['OKAY', 'FAIL', 'DATA', 'INFO', 'TEXT'] as const;
export type ResponseType = (typeof RESPONSE_TYPES)[number];

export type FastbootResponse =
  | { readonly type: 'OKAY' | 'FAIL' | 'INFO' | 'TEXT'; readonly message: string }
  /** DATA carries the byte count the device is ready to send or receive. */
  | { readonly type: 'DATA'; readonly size: number };

export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

const latin1 = new TextDecoder('latin1');

function toAscii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Non-ASCII would be mangled differently by every device; replace it visibly.
    out[i] = c < 0x80 ? c : 0x3f;
  }
  return out;
}

export function encodeCommand(command: string): Uint8Array {
  if (command.length === 0) throw new WireFormatError('empty fastboot command');
  if (command.length > MAX_COMMAND_LENGTH) {
    throw new WireFormatError(`fastboot command is ${command.length} bytes, more than ${MAX_COMMAND_LENGTH}`);
  }
  return toAscii(command);
}

export function decodeCommand(packet: Uint8Array): string {
  if (packet.byteLength === 0) throw new WireFormatError('empty command packet');
  if (packet.byteLength > MAX_COMMAND_LENGTH) {
    throw new WireFormatError(`command packet of ${packet.byteLength} bytes exceeds ${MAX_COMMAND_LENGTH}`);
  }
  return latin1.decode(packet);
}

export function encodeResponse(response: FastbootResponse): Uint8Array {
  if (response.type === 'DATA') {
    if (!Number.isSafeInteger(response.size) || response.size < 0 || response.size > 0xffffffff) {
      throw new WireFormatError(`DATA size out of range: ${response.size}`);
    }
    return toAscii(`DATA${response.size.toString(16).padStart(8, '0')}`);
  }
  // Truncate long messages rather than break the 256-byte packet limit.
  return toAscii(`${response.type}${response.message}`.slice(0, MAX_RESPONSE_LENGTH));
}

export function decodeResponse(packet: Uint8Array): FastbootResponse {
  if (packet.byteLength < 4)
    throw new WireFormatError(`response packet too short (${packet.byteLength} bytes)`);
  if (packet.byteLength > MAX_RESPONSE_LENGTH) {
    throw new WireFormatError(`response packet of ${packet.byteLength} bytes exceeds ${MAX_RESPONSE_LENGTH}`);
  }
  const text = latin1.decode(packet);
  const type = text.slice(0, 4);
  const rest = text.slice(4).replace(/\0+$/, '');
  switch (type) {
    case 'OKAY':
    case 'FAIL':
    case 'INFO':
    case 'TEXT':
      return { type, message: rest };
    case 'DATA': {
      if (!/^[0-9a-fA-F]{8}$/.test(rest)) throw new WireFormatError(`malformed DATA size '${rest}'`);
      return { type: 'DATA', size: Number.parseInt(rest, 16) };
    }
    default:
      throw new WireFormatError(`unknown response type '${type.replace(/[^\x20-\x7e]/g, '?')}'`);
  }
}
