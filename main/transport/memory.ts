/**
 * An in-process link: two connected Duplex ends. Hand one to the virtual device (it serves fastboot over any
 * Duplex) and open the other as a link. Node 20 has no stream.duplexPair (added in 22.6), hence this.
 */
import { Duplex } from 'node:stream';
import { streamLink } from './stream-link.js';
import type { StreamLink } from './types.js';

class End extends Duplex {
  peer: End | null = null;
  #pendingWrite: (() => void) | null = null;

  override _read(): void {
    const writer = this.peer;
    if (!writer) return;
    const resume = writer.#pendingWrite;
    writer.#pendingWrite = null;
    resume?.();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const peer = this.peer;
    if (!peer || peer.destroyed) {
      done(new Error('the other end of the in-process link is closed'));
      return;
    }
    // Copy: the writer may reuse its buffer once the write callback runs.
    if (peer.push(Buffer.from(chunk))) done();
    else this.#pendingWrite = () => done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.peer?.push(null);
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const peer = this.peer;
    this.peer = null;
    if (peer && !peer.destroyed) {
      peer.peer = null;
      peer.push(null);
      peer.destroy();
    }
    done(err);
  }
}

/** Two connected Duplex streams: bytes written to one are read from the other. Destroying one ends both. */
export function createDuplexPair(): [Duplex, Duplex] {
  const a = new End();
  const b = new End();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** A StreamLink over one end of a pair; the other end goes to the peer (e.g. the virtual device). */
export function memoryLink(end: Duplex, description = 'in-process link'): StreamLink {
  return streamLink(end, description);
}
