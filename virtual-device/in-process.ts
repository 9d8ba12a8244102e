/**
 * An in-process link: two connected Duplex ends, like a socket pair without the kernel. Node 20 has no
 * stream.duplexPair (added in 22.6), hence this small version. Backpressure is kept: a write is not
 * acknowledged until the other end has room, so a fast writer cannot grow memory without bound.
 */
import { Duplex } from 'node:stream';

class PairEnd extends Duplex {
  peer!: PairEnd;
  #pending: (() => void) | null = null;

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.peer.destroyed) {
      done(new Error('the other end of the link is closed'));
      return;
    }
    if (this.peer.push(chunk)) done();
    else this.peer.#pending = () => done();
  }

  override _read(): void {
    const pending = this.#pending;
    this.#pending = null;
    pending?.();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.peer.push(null);
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const peer = this.peer;
    const pending = peer.#pending;
    peer.#pending = null;
    pending?.();
    // Like a pulled cable: the other side sees end of stream and then close.
    if (!peer.destroyed) {
      peer.push(null);
      queueMicrotask(() => peer.destroy());
    }
    done(err);
  }
}

export function createDuplexPair(highWaterMark = 1024 * 1024): [Duplex, Duplex] {
  const a = new PairEnd({ highWaterMark });
  const b = new PairEnd({ highWaterMark });
  a.peer = b;
  b.peer = a;
  return [a, b];
}
