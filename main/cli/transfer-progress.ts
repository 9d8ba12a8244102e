/**
 * Progress of a long transfer on stderr (backup, rescue, sync): `what: done/total MB  rate MB/s  ETA s`.
 * On a terminal one line per item, redrawn at most 4 times a second; in a log (not a terminal) a line a
 * second and one when the item ends, so a pipe gets readable lines instead of carriage returns.
 * It only draws: the callers measure (rate and ETA come with each report). (`flash` and `line` show several
 * devices at once with cli-progress; these commands move one item at a time.)
 */
export interface TransferProgress {
  /** What moves (a stage, a partition, a file); a new `what` starts a new line. */
  readonly what: string;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Bytes per second, as the source measured it (the engine's ProgressMeter, the rescue's stage meter). */
  readonly rate: number;
  /** Unknown (no rate yet) shows as `ETA ?`. */
  readonly etaSeconds?: number | null | undefined;
}

const TTY_INTERVAL_MS = 250;
const LOG_INTERVAL_MS = 1000;
const mb = (n: number) => (n / 1e6).toFixed(1);

export function transferProgressPrinter(out: Pick<NodeJS.WriteStream, 'write' | 'isTTY'> = process.stderr): {
  readonly show: (p: TransferProgress) => void;
  readonly end: () => void;
} {
  const tty = out.isTTY === true;
  let what: string | undefined;
  let last = 0;
  let open = false;
  const end = () => {
    if (tty && open) out.write('\n');
    open = false;
  };
  const show = (p: TransferProgress) => {
    const now = Date.now();
    const done = p.bytesDone >= p.bytesTotal;
    if (p.what !== what) {
      end();
      what = p.what;
    } else if (now - last < (tty ? TTY_INTERVAL_MS : LOG_INTERVAL_MS) && !done) {
      return;
    }
    last = now;
    const eta = done
      ? ''
      : `  ETA ${p.etaSeconds === null || p.etaSeconds === undefined ? '?' : `${p.etaSeconds} s`}`;
    const line = `${p.what}: ${mb(p.bytesDone)}/${mb(p.bytesTotal)} MB  ${mb(p.rate)} MB/s${eta}`;
    if (tty) {
      out.write(`\r${line}\x1b[K`);
      open = true;
    } else {
      out.write(`${line}\n`);
    }
  };
  return { show, end };
}
