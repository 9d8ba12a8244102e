/**
 * Parsers for CLI option values. A bad value throws commander's InvalidArgumentError, which the program
 * turns into a one-line error plus usage and exit code 2.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { untilStopSignal } from './stop-signals.js';

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 0 || n > 65535) {
    throw new InvalidArgumentError(`'${value}' is not a TCP port (0-65535).`);
  }
  return n;
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`'${value}' is not a non-negative integer.`);
  }
  return Number(value);
}

export function parsePositiveInt(value: string): number {
  const n = parseNonNegativeInt(value);
  if (n === 0) throw new InvalidArgumentError(`'${value}' must be at least 1.`);
  return n;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/**
 * A byte size such as `4GiB`, `512MiB`, `2.5G` or `1000000` (K/M/G/T and KiB… are binary, kB/MB/GB/TB
 * decimal). Hand-written: a dozen lines, where the common packages either lack the IEC units or read "GB"
 * as binary.
 */
export function parseByteSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(value);
  const suffix = m?.[2]?.toLowerCase() ?? '';
  const unit = m && Object.hasOwn(SIZE_UNITS, suffix) ? SIZE_UNITS[suffix] : undefined;
  const n = m && unit ? Math.floor(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`'${value}' is not a size (for example 4GiB, 512MiB or 2000000000).`);
  }
  return n;
}

/** HOST:PORT (IPv6 as [::1]:PORT). */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`'${value}' is not HOST:PORT (for example 127.0.0.1:5554).`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: parsePort(m[2]!) };
}

/** For repeatable options: `.option('--x <v>', '…', collect(parse), [])`. */
export function collect<T>(parse: (v: string) => T): (value: string, previous: T[]) => T[] {
  return (value, previous) => [...previous, parse(value)];
}

/**
 * Resolves when the process is asked to stop (Ctrl-C or SIGTERM), under the one stop policy of
 * stop-signals.ts: a second signal, or a stop that outlasts the grace period, exits at once.
 */
export function untilInterrupted(describe?: () => string): Promise<NodeJS.Signals> {
  return untilStopSignal(describe ? { describe } : {}).stopped;
}

/**
 * What every command that opens a package for flashing takes besides the package: the trust store and the
 * station keys for encrypted packages (those in `<home>/station-keys/` are always used).
 */
export function withPackageKeyOptions(command: Command): Command {
  return command
    .option(
      '--trust <dir>',
      'trust store directory (replaces the default ones); repeatable',
      collect(String),
      [],
    )
    .option(
      '--decryption-key <file>',
      'station private key for encrypted packages, besides <home>/station-keys/ (repeatable)',
      collect(String),
      [],
    );
}
