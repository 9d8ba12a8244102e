/**
 * Parsers for CLI option values. A bad value throws commander's InvalidArgumentError, which the program
 * turns into a one-line error plus usage and exit code 2.
 */
import { InvalidArgumentError } from 'commander';
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
