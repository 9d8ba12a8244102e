/**
 * An authorized ADB connection: one reader loop demultiplexes the device's messages onto streams (any
 * number at once), and the services the product needs are built on streams. Every call is bounded by its
 * time limit and AbortSignal (cancelling closes its stream); a malformed message fails every call with
 * AdbProtocolError and drops the link; a dropped link fails them with DisconnectedError.
 */
import { DisconnectedError, withDeadline } from '../../transport/index.js';
import {
  ADB_REBOOT_TARGETS,
  type AdbBanner,
  type AdbCallOptions,
  type AdbConnection,
  AdbProtocolError,
  type AdbRebootTarget,
  AdbServiceError,
  type AdbShellResult,
} from './contract.js';
import type { AdbSessionParameters } from './handshake.js';
import type { AdbMessageLink } from './message-link.js';
import { SHELL_ID, ShellPacketParser } from './shell-v2.js';
import { AdbStream, type StreamSender } from './stream.js';
import { type AdbMessage, cString } from './wire.js';

export const DEFAULT_ADB_CALL_TIMEOUT_MS = 30_000;
/** Callers ask for short answers (properties, a status line); more than this is refused, not buffered. */
export const MAX_SHELL_OUTPUT = 1024 * 1024;
/** How long `reboot` waits, after the device accepted, for a refusal message before taking it as done. */
const REBOOT_SETTLE_MS = 5_000;
/**
 * The reader waits for the device as long as the connection is open (calls have their own deadlines); it
 * ends through `close()`'s abort. A timed-out USB transfer drops the link, so the wait is not re-armed.
 */
const IDLE_READ_MS = 2 ** 31 - 1;

const utf8 = new TextDecoder();
const empty = new Uint8Array(0);

export class AdbClientConnection implements AdbConnection, StreamSender {
  readonly banner: AdbBanner;
  readonly maxPayload: number;
  readonly #streams = new Map<number, AdbStream>();
  #nextId = 1;
  #failure: Error | null = null;
  readonly #closing = new AbortController();

  constructor(
    private readonly link: AdbMessageLink,
    session: AdbSessionParameters,
    readonly description: string,
  ) {
    this.banner = session.banner;
    this.maxPayload = session.maxPayload;
    void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    try {
      for (;;) {
        const msg = await this.link.receive({ timeoutMs: IDLE_READ_MS, signal: this.#closing.signal });
        await this.#dispatch(msg);
      }
    } catch (err) {
      const failure =
        err instanceof AdbProtocolError || err instanceof DisconnectedError
          ? err
          : new DisconnectedError(`${this.description}: ${(err as Error).message}`, { cause: err });
      // close() set its own reason first; keep it.
      this.#failure ??= failure;
      for (const stream of [...this.#streams.values()]) stream.fail(this.#failure);
      await this.link.close();
    }
  }

  async #dispatch(msg: AdbMessage): Promise<void> {
    const stream = this.#streams.get(msg.arg1);
    switch (msg.command) {
      case 'OKAY':
        if (stream) stream.onOkay(msg.arg0);
        else await this.#closeStray(msg);
        return;
      case 'WRTE':
        if (!stream) return this.#closeStray(msg);
        stream.onData(msg.payload);
        await this.send({ command: 'OKAY', arg0: msg.arg1, arg1: msg.arg0, payload: empty });
        return;
      case 'CLSE':
        stream?.onClose();
        return;
      default:
        throw new AdbProtocolError(`${this.description} sent ${msg.command} on an established connection`);
    }
  }

  /** A message for a stream we already gave up on (cancelled call): tell the device to close it. */
  async #closeStray(msg: AdbMessage): Promise<void> {
    if (msg.arg0 === 0) return;
    await this.send({ command: 'CLSE', arg0: msg.arg1, arg1: msg.arg0, payload: empty });
  }

  send(msg: AdbMessage): Promise<void> {
    return this.link.send(msg, { timeoutMs: DEFAULT_ADB_CALL_TIMEOUT_MS });
  }

  forget(localId: number): void {
    this.#streams.delete(localId);
  }

  /** Open a stream to `service`; registered at once so a cancelled call can close it. */
  openStream(service: string): AdbStream {
    const localId = this.#nextId++;
    const stream = new AdbStream(localId, service, this);
    this.#streams.set(localId, stream);
    if (this.#failure) stream.fail(this.#failure);
    else
      this.send({ command: 'OPEN', arg0: localId, arg1: 0, payload: cString(service) }).catch((err) =>
        stream.fail(err),
      );
    return stream;
  }

  /** Run `work` on a stream under the call's deadline; the stream is closed however the call ends. */
  async #call<T>(
    what: string,
    service: string,
    opts: AdbCallOptions,
    work: (stream: AdbStream) => Promise<T>,
  ): Promise<T> {
    if (this.#failure) throw this.#failure;
    const stream = this.openStream(service);
    try {
      return await withDeadline(
        `${what} on ${this.description}`,
        work(stream),
        {
          timeoutMs: opts.timeoutMs ?? DEFAULT_ADB_CALL_TIMEOUT_MS,
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
        (reason) => stream.fail(reason),
      );
    } finally {
      await stream.close();
    }
  }

  shell(command: string, options: AdbCallOptions = {}): Promise<AdbShellResult> {
    const v2 = this.banner.features.includes('shell_v2');
    const service = v2 ? `shell,v2,raw:${command}` : `shell:${command}`;
    return this.#call(`adb shell '${command}'`, service, options, async (stream) => {
      await stream.opened;
      const out = new OutputCollector(service);
      if (!v2) {
        for (let chunk = await stream.read(); chunk; chunk = await stream.read()) out.add('stdout', chunk);
        return out.result(undefined);
      }
      const parser = new ShellPacketParser(MAX_SHELL_OUTPUT);
      for (let chunk = await stream.read(); chunk; chunk = await stream.read()) {
        for (const packet of parser.push(chunk)) {
          if (packet.id === SHELL_ID.stdout) out.add('stdout', packet.data);
          else if (packet.id === SHELL_ID.stderr) out.add('stderr', packet.data);
          else if (packet.id === SHELL_ID.exit) return out.result(packet.data[0] ?? 0);
        }
      }
      throw new AdbProtocolError(`${this.description} closed '${service}' without an exit status`);
    });
  }

  async getprops(options: AdbCallOptions = {}): Promise<Map<string, string>> {
    const { stdout } = await this.shell('getprop', options);
    const props = new Map<string, string>();
    for (const line of stdout.split('\n')) {
      const m = /^\[([^\]]+)\]: \[(.*)\]\r?$/.exec(line);
      if (m) props.set(m[1]!, m[2]!);
    }
    return props;
  }

  async getprop(name: string, options: AdbCallOptions = {}): Promise<string> {
    // The name goes into a shell command line: accept property-name characters only.
    if (!/^[A-Za-z0-9_.:-]+$/.test(name)) throw new RangeError(`'${name}' is not a property name`);
    const { stdout } = await this.shell(`getprop ${name}`, options);
    return stdout.replace(/\r?\n$/, '');
  }

  reboot(target: AdbRebootTarget, options: AdbCallOptions = {}): Promise<void> {
    if (!(ADB_REBOOT_TARGETS as readonly string[]).includes(target)) {
      return Promise.reject(
        new RangeError(`'${target}' is not a reboot target (${ADB_REBOOT_TARGETS.join(', ')})`),
      );
    }
    const service = `reboot:${target}`;
    return this.#call(`adb reboot ${target}`, service, options, async (stream) => {
      await stream.opened;
      // Accepted. A device that cannot reboot there writes why and closes; one that reboots just goes.
      const said = new OutputCollector(service);
      const ended = (async () => {
        for (let chunk = await stream.read(); chunk; chunk = await stream.read()) said.add('stdout', chunk);
      })().catch((err: unknown) => {
        if (!(err instanceof DisconnectedError)) throw err;
      });
      let timer: NodeJS.Timeout | undefined;
      const settled = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, REBOOT_SETTLE_MS);
      });
      try {
        await Promise.race([ended, settled]);
      } finally {
        clearTimeout(timer);
      }
      const message = said.result(undefined).stdout.trim();
      if (message) throw new AdbServiceError(service, `${this.description} did not reboot: ${message}`);
    });
  }

  async close(): Promise<void> {
    if (!this.#failure) this.#failure = new DisconnectedError(`${this.description}: closed by Flashline`);
    this.#closing.abort();
    await this.link.close();
  }
}

class OutputCollector {
  readonly #parts = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[] };
  #total = 0;
  constructor(private readonly service: string) {}

  add(kind: 'stdout' | 'stderr', bytes: Uint8Array): void {
    this.#total += bytes.byteLength;
    if (this.#total > MAX_SHELL_OUTPUT) {
      throw new AdbServiceError(
        this.service,
        `'${this.service}' printed more than ${MAX_SHELL_OUTPUT} bytes; Flashline only runs commands with short answers`,
      );
    }
    this.#parts[kind].push(bytes);
  }

  result(exitCode: number | undefined): AdbShellResult {
    const text = (parts: Uint8Array[]) => utf8.decode(Buffer.concat(parts));
    return { exitCode, stdout: text(this.#parts.stdout), stderr: text(this.#parts.stderr) };
  }
}
