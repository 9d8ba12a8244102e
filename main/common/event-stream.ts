/**
 * One typed stream of events, the way every service here publishes them: listeners for in-process
 * consumers (`subscribe`) and an async iterable for API subscriptions (`events`) that ends quietly when the
 * subscriber's signal aborts. The device registry, the job manager, rescue jobs and the Catalog each had
 * their own copy of this.
 */
import { EventEmitter, on } from 'node:events';

export class EventStream<T> {
  readonly #emitter = new EventEmitter();

  constructor() {
    // Every API client, UI tab and the live bus subscribes: no listener count is a leak here.
    this.#emitter.setMaxListeners(0);
  }

  emit(event: T): void {
    this.#emitter.emit('event', event);
  }

  /** Hear every event from now on; returns the unsubscribe function. */
  subscribe(listener: (event: T) => void): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }

  /** Events from now on as an async iterable that ends when `signal` aborts. */
  async *events(signal?: AbortSignal): AsyncGenerator<T> {
    try {
      for await (const [event] of on(this.#emitter, 'event', { signal })) yield event as T;
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
  }
}
