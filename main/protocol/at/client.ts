/**
 * An AT client over any StreamLink (a serial port, a pty, an in-process pipe). One command at a time:
 * flush what the modem said unasked, write `COMMAND\r`, collect lines until a final result, all within the
 * command's own time limit. Unsolicited result codes are set aside, not mistaken for answers.
 *
 * Retries: fwupd's modem-manager plugin (fu-mm-device.c) sends a plain `AT` first and retries each AT
 * exchange 3 times, 3 s apart, reading with 1.5 s limits after flushing input. Here only the `AT` probe is
 * retried: identification commands are harmless but answer at once once `AT` did, and a vendor command that
 * switches modes must never be sent twice by accident. Commands end with CR alone (V.250 §5.2.1, S3);
 * fwupd's CR LF works too, the LF being ignored by the modem.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TimeoutError } from '../../transport/errors.js';
import type { IoOptions, StreamLink } from '../../transport/types.js';
import { AtCommandError, AtProtocolError } from './errors.js';
import { type AtAnswer, AtAnswerCollector, AtLineSplitter, isTextLine, MAX_LINE } from './lines.js';

/** fwupd reads an AT answer with a 1.5 s limit; identification commands answer well within it. */
export const AT_COMMAND_TIMEOUT_MS = 1500;
/** fwupd: three tries of the plain `AT` probe, 3 s apart. */
export const AT_PROBE_TRIES = 3;
export const AT_PROBE_INTERVAL_MS = 3000;
/** How long the input must stay quiet for a flush to end (and a hard cap so a chatty port cannot stall us). */
const FLUSH_QUIET_MS = 30;
const FLUSH_MAX_BYTES = 64 * 1024;
/** An answer larger than this is noise, not identification text. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface AtCommandOptions extends IoOptions {
  /** Accept `CONNECT` as success (data mode); otherwise it is still a success, reported in `final`. */
  readonly allowConnect?: boolean;
}

export interface AtClientOptions {
  /** Default per-command limit (ms). */
  readonly timeoutMs?: number;
  /** Pause between probe tries (ms); tests shorten it. */
  readonly probeIntervalMs?: number;
}

export class AtClient {
  readonly #link: StreamLink;
  readonly #timeoutMs: number;
  readonly #probeIntervalMs: number;
  readonly #splitter = new AtLineSplitter();
  /** Unsolicited result codes seen so far (bounded: the newest 64). */
  readonly unsolicited: string[] = [];

  constructor(link: StreamLink, opts: AtClientOptions = {}) {
    this.#link = link;
    this.#timeoutMs = opts.timeoutMs ?? AT_COMMAND_TIMEOUT_MS;
    this.#probeIntervalMs = opts.probeIntervalMs ?? AT_PROBE_INTERVAL_MS;
  }

  get description(): string {
    return this.#link.description;
  }

  /**
   * Plain `AT` until the modem answers OK, at most AT_PROBE_TRIES times.
   * @throws the last try's error (TimeoutError, AtProtocolError, AtCommandError), DisconnectedError, AbortedError
   */
  async probe(opts: IoOptions = {}): Promise<void> {
    let last: unknown;
    for (let attempt = 0; attempt < AT_PROBE_TRIES; attempt++) {
      if (attempt > 0)
        await sleep(this.#probeIntervalMs, undefined, opts.signal ? { signal: opts.signal } : {});
      try {
        await this.command('AT', opts);
        return;
      } catch (err) {
        // Only "no answer" and noise are worth another try; a gone port or a cancel is final.
        if (!(err instanceof TimeoutError || err instanceof AtProtocolError)) throw err;
        last = err;
      }
    }
    throw last;
  }

  /**
   * Send one command and return its answer. Refusals (ERROR, +CME ERROR…) throw AtCommandError.
   * @throws AtCommandError, AtProtocolError, TimeoutError, DisconnectedError, AbortedError
   */
  async command(command: string, opts: AtCommandOptions = {}): Promise<AtAnswer> {
    if (!/^AT[\x20-\x7e]*$/i.test(command))
      throw new RangeError(`not an AT command line: ${JSON.stringify(command)}`);
    await this.flush(opts.signal);
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    const deadline = Date.now() + timeoutMs;
    await this.#link.write(new TextEncoder().encode(`${command}\r`), {
      timeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const collector = new AtAnswerCollector(command);
    let received = 0;
    for (;;) {
      const left = deadline - Date.now();
      let bytes: Uint8Array;
      try {
        bytes = await this.#link.read({
          timeoutMs: Math.max(1, left),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
      } catch (err) {
        if (err instanceof TimeoutError)
          throw new TimeoutError(
            `waiting for the answer to '${command}' on ${this.#link.description}`,
            timeoutMs,
          );
        throw err;
      }
      received += bytes.byteLength;
      if (received > MAX_ANSWER_BYTES)
        throw new AtProtocolError(command, `more than ${MAX_ANSWER_BYTES} bytes without a final result`);
      for (const line of this.#splitter.push(bytes)) {
        if (!isTextLine(line))
          throw new AtProtocolError(command, `binary data in a line (${JSON.stringify(line.slice(0, 40))})`);
        const answer = collector.feed(line);
        if (!answer) continue;
        this.#remember(answer.unsolicited);
        return this.#judge(command, answer);
      }
      // Noise rarely holds a line end: judge the unfinished line too, or binary would only ever time out.
      if (!isTextLine(this.#splitter.pending))
        throw new AtProtocolError(
          command,
          `binary data (${JSON.stringify(this.#splitter.pending.slice(0, 40))})`,
        );
      if (this.#splitter.pending.length > MAX_LINE)
        throw new AtProtocolError(command, `a line longer than ${MAX_LINE} characters`);
    }
  }

  #judge(command: string, answer: AtAnswer): AtAnswer {
    const f = answer.final;
    switch (f.kind) {
      case 'ok':
      case 'connect':
        return answer;
      case 'error':
        throw new AtCommandError(command, { kind: 'error' }, 'ERROR');
      case 'cme':
        throw new AtCommandError(command, f, `+CME ERROR: ${f.code}`);
      case 'cms':
        throw new AtCommandError(command, f, `+CMS ERROR: ${f.code}`);
      case 'other':
        throw new AtCommandError(command, f, f.text);
    }
  }

  #remember(lines: readonly string[]): void {
    this.unsolicited.push(...lines);
    if (this.unsolicited.length > 64) this.unsolicited.splice(0, this.unsolicited.length - 64);
  }

  /**
   * Discard whatever the modem sent unasked (fwupd flushes input before each command): a stale answer or a
   * URC must not be read as the next command's answer. Complete URC lines are kept in `unsolicited`.
   */
  async flush(signal?: AbortSignal): Promise<void> {
    let dropped = 0;
    while (dropped < FLUSH_MAX_BYTES) {
      let bytes: Uint8Array;
      try {
        bytes = await this.#link.read({ timeoutMs: FLUSH_QUIET_MS, ...(signal ? { signal } : {}) });
      } catch (err) {
        if (err instanceof TimeoutError) break;
        throw err;
      }
      dropped += bytes.byteLength;
      this.#remember(this.#splitter.push(bytes).filter(isTextLine));
    }
    this.#splitter.reset();
  }
}
