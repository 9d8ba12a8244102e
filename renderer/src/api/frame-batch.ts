/**
 * Gather items that arrive between two frames and hand them over once, at the next animation frame: a
 * station with 64 devices sends ~256 progress events a second, and one render per event would take more
 * than the frame budget. A timer backs the frame up, because a hidden tab gets no animation frames and
 * would otherwise queue events without bound.
 */
export interface FrameBatch<T> {
  push(item: T): void;
  /** Drop what is queued (the subscriber unmounted, or a fresh snapshot replaces it); later pushes batch again. */
  cancel(): void;
}

/** How long a batch may wait when no frame comes (hidden tab); about the engine's progress interval. */
export const MAX_BATCH_WAIT_MS = 250;

/** The page's frame clock (read when used; this module is also compiled without the DOM's types). */
const frameClock = () =>
  globalThis as unknown as {
    requestAnimationFrame(cb: () => void): number;
    cancelAnimationFrame(id: number): void;
  };

export function frameBatch<T>(flush: (items: T[]) => void): FrameBatch<T> {
  let items: T[] = [];
  let frame: number | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    if (frame !== null) frameClock().cancelAnimationFrame(frame);
    if (timer !== null) clearTimeout(timer);
    frame = null;
    timer = null;
    const out = items;
    items = [];
    if (out.length > 0) flush(out);
  };
  return {
    push(item) {
      items.push(item);
      if (frame !== null || timer !== null) return;
      frame = frameClock().requestAnimationFrame(run);
      timer = setTimeout(run, MAX_BATCH_WAIT_MS);
    },
    cancel() {
      if (frame !== null) frameClock().cancelAnimationFrame(frame);
      if (timer !== null) clearTimeout(timer);
      frame = null;
      timer = null;
      items = [];
    },
  };
}
