/**
 * The transport contract. A transport opens to a link; fastboot (and later EDL/AT) speak over links and never
 * know whether bytes travel over USB, TCP, a serial line or an in-process pipe.
 *
 * Two link shapes exist because the media differ: byte streams (TCP, serial, memory) and packet pipes (USB
 * bulk). fastboot is packet-oriented, so stream links are wrapped by `framedPacketLink` (FB01 + 8-byte
 * framing) into the same {@link PacketLink} that USB gives directly.
 */

import type { IoOptions } from './deadline.js';
import type { DisconnectedError } from './errors.js';

export type { IoOptions } from './deadline.js';

/** Progress of a long write, in bytes. Called at most once per written chunk. */
export type ByteProgress = (bytesDone: number, bytesTotal: number) => void;

/** Common to both link shapes. */
export interface LinkBase {
  /** Human-readable description used in messages (`tcp 127.0.0.1:5554`, `usb 18d1:4ee0 SERIAL`). */
  readonly description: string;
  /**
   * USB links only: the device's `VVVV:PPPP` (lower-case hex), what vendor profiles match by
   * (resources/devices). Absent on TCP, serial and in-process links.
   */
  readonly usbId?: string;
  /**
   * Settles (never rejects) with a DisconnectedError once the link is gone, whether the peer went away or
   * `close()` was called. Pending reads and writes fail with that error rather than hang.
   */
  readonly disconnected: Promise<DisconnectedError>;
  /** True once `disconnected` has settled. */
  readonly isClosed: boolean;
  /** Release the link. Idempotent; never throws; resolves when the OS resources are released. */
  close(): Promise<void>;
}

/** A byte stream (TCP socket, serial port, in-process pipe). */
export interface StreamLink extends LinkBase {
  readonly kind: 'stream';
  /**
   * Read up to `maxBytes` (default: whatever is buffered) — resolves with at least one byte.
   * @throws DisconnectedError, TimeoutError, AbortedError
   */
  read(opts?: IoOptions & { maxBytes?: number }): Promise<Uint8Array>;
  /**
   * Read exactly `length` bytes.
   * @throws DisconnectedError, TimeoutError, AbortedError
   */
  readExactly(length: number, opts?: IoOptions): Promise<Uint8Array>;
  /**
   * Write bytes; resolves when the OS accepted them (respecting backpressure).
   * @throws DisconnectedError, TimeoutError, AbortedError
   */
  write(bytes: Uint8Array, opts?: IoOptions): Promise<void>;
  /**
   * Write bytes and resolve only once the link no longer holds them (handed to the OS or the device), so the
   * caller may reuse the buffer at once. `write` may resolve earlier, while the stream still queues them.
   * @throws DisconnectedError, TimeoutError, AbortedError
   */
  writeReleased(bytes: Uint8Array, opts?: IoOptions): Promise<void>;
}

/** A packet pipe: what fastboot needs. USB bulk gives one natively; stream links are framed into one. */
export interface PacketLink extends LinkBase {
  readonly kind: 'packet';
  /**
   * Send one packet (a command). Transports add their own rules (USB: zero-length packet after a multiple of
   * the max packet size; TCP/serial: one frame).
   * @throws DisconnectedError, TimeoutError, AbortedError
   */
  send(packet: Uint8Array, opts?: IoOptions): Promise<void>;
  /**
   * Receive one packet of at most `maxLength` bytes (a response).
   * @throws DisconnectedError, TimeoutError, AbortedError
   */
  receive(opts?: IoOptions & { maxLength?: number }): Promise<Uint8Array>;
  /**
   * Send a data phase of exactly `size` bytes pulled from `source`, streaming (memory stays bounded whatever
   * `size` is). `timeoutMs` applies to each chunk, not to the whole transfer.
   * @throws DisconnectedError, TimeoutError, AbortedError, RangeError when the source yields more or fewer
   *   than `size` bytes
   */
  sendData(
    size: number,
    source: AsyncIterable<Uint8Array>,
    opts?: IoOptions & { onProgress?: ByteProgress },
  ): Promise<void>;
  /**
   * Receive a data phase of exactly `size` bytes (fastboot `upload`), delivered chunk by chunk to `sink`.
   * @throws DisconnectedError, TimeoutError, AbortedError
   */
  receiveData(
    size: number,
    sink: (chunk: Uint8Array) => void | Promise<void>,
    opts?: IoOptions,
  ): Promise<void>;
}

export type Link = StreamLink | PacketLink;

/** Something that can be opened into a link (kept for composition roots that open lazily). */
export interface Transport<L extends Link = Link> {
  /** Stable device id, e.g. `tcp:127.0.0.1:5554`. */
  readonly id: string;
  /** Open the link. @throws OpenError, TimeoutError, AbortedError, TransportUnavailableError */
  open(opts?: IoOptions): Promise<L>;
}
