/**
 * The virtual device's adbd: serves ADB (AOSP protocol.txt) on any Duplex (a TCP socket, an in-process pair
 * end). This file is the protocol side only — packets, auth, streams, flow control; what the phone answers
 * comes from the AdbDeviceHandler (device-handler.ts).
 *
 * Auth as a secure adbd does it: every CNXN is answered with AUTH(TOKEN); an accepted SIGNATURE brings the
 * device online (our CNXN with the banner); otherwise a fresh TOKEN, after which the host offers its key
 * (RSAPUBLICKEY), allowed or left unanswered ("unauthorized"). Which keys pass is adbd-auth.ts.
 * Services: `shell:CMD` (v1: output then CLSE), `shell,v2,…:CMD` (stdout/stderr/exit packets), `reboot:T`;
 * anything else is refused with CLSE, as adbd does for a service it cannot start.
 */
import type { Duplex } from 'node:stream';
import { encodeShellPacket, parseShellService, SHELL_ID } from '../../main/protocol/adb/shell-v2.js';
import {
  ADB_AUTH,
  ADB_MAX_PAYLOAD,
  ADB_MAX_PAYLOAD_V1,
  ADB_VERSION,
  ADB_VERSION_SKIP_CHECKSUM,
  type AdbMessage,
  AdbMessageParser,
  encodeHeader,
  formatBanner,
  payloadText,
} from '../../main/protocol/adb/wire.js';
import { AdbdAuth } from './adbd-auth.js';
import type { AdbDeviceHandler, AdbServerOptions, AdbSessionEnd, ShellAnswer } from './device-handler.js';

/** Features this adbd offers in its banner. */
export const ADB_DEVICE_FEATURES = ['shell_v2', 'cmd'] as const;

const empty = new Uint8Array(0);
/** How long a rebooting device waits for its last bytes to leave. */
const FLUSH_BEFORE_REBOOT_MS = 2000;
/** Output bytes per shell v2 packet. */
const SHELL_PACKET_DATA = 32 * 1024;
const utf8 = new TextEncoder();

interface OutStream {
  readonly remoteId: number;
  /** Bytes waiting to be sent, already cut to the agreed payload size. */
  readonly queue: Uint8Array[];
  inFlight: boolean;
  /** Send CLSE once the queue is drained; then run `after`. */
  closing: boolean;
  after?: () => void;
}

export function serveAdb(
  link: Duplex,
  handler: AdbDeviceHandler,
  options: AdbServerOptions,
): Promise<AdbSessionEnd> {
  return new Promise((resolve) => new AdbdSession(link, handler, options, resolve).start());
}

class AdbdSession {
  readonly #parser = new AdbMessageParser(ADB_MAX_PAYLOAD);
  readonly #auth: AdbdAuth;
  readonly #streams = new Map<number, OutStream>();
  #state: 'offline' | 'auth' | 'online' = 'offline';
  #maxPayload = ADB_MAX_PAYLOAD_V1;
  #nextId = 1;
  #ended = false;

  constructor(
    private readonly link: Duplex,
    private readonly handler: AdbDeviceHandler,
    private readonly options: AdbServerOptions,
    private readonly resolve: (end: AdbSessionEnd) => void,
  ) {
    this.#auth = new AdbdAuth(options.authorizedKeys);
  }

  readonly #onData = (chunk: Buffer) => {
    try {
      for (const msg of this.#parser.push(new Uint8Array(chunk))) this.#handle(msg);
    } catch (err) {
      this.#end({ reason: 'error', message: (err as Error).message });
      this.link.destroy();
    }
  };
  /** Set once a reboot was accepted: however the link ends now, the session ended with the reboot. */
  #goingDown: AdbSessionEnd | null = null;
  readonly #onClosed = () => this.#end(this.#goingDown ?? { reason: 'closed' });
  readonly #onError = () => this.#end(this.#goingDown ?? { reason: 'closed' });

  start(): void {
    if (this.options.signal?.aborted || this.link.destroyed) {
      this.#end({ reason: 'closed' });
      return;
    }
    this.options.signal?.addEventListener('abort', this.#onClosed, { once: true });
    this.link.on('data', this.#onData);
    this.link.on('end', this.#onClosed);
    this.link.on('close', this.#onClosed);
    this.link.on('error', this.#onError);
  }

  #end(end: AdbSessionEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.options.signal?.removeEventListener('abort', this.#onClosed);
    this.link.off('data', this.#onData);
    this.link.off('end', this.#onClosed);
    this.link.off('close', this.#onClosed);
    // Keep an error listener: a late write error on a vanished peer must not crash the device.
    this.link.off('error', this.#onError);
    this.link.on('error', () => {});
    this.resolve(end);
  }

  /**
   * Header and payload as two writes, as adbd sends them on USB: over a Duplex on a USB endpoint (one write =
   * one transfer) hosts get the layout they expect; over TCP it makes no difference.
   */
  #send(msg: AdbMessage): void {
    if (this.#ended || this.link.destroyed || !this.link.writable) return;
    this.link.write(encodeHeader(msg));
    if (msg.payload.byteLength > 0) this.link.write(msg.payload);
  }

  #handle(msg: AdbMessage): void {
    if (msg.command === 'CNXN') {
      this.#onConnect(msg);
      return;
    }
    if (msg.command === 'AUTH') {
      this.#onAuth(msg);
      return;
    }
    // adbd drops stream traffic from a host that has not authenticated.
    if (this.#state !== 'online') return;
    const stream = this.#streams.get(msg.arg1);
    switch (msg.command) {
      case 'OPEN':
        return void this.#onOpen(msg.arg0, payloadText(msg.payload));
      case 'OKAY':
        if (stream) {
          stream.inFlight = false;
          this.#pump(msg.arg1, stream);
        }
        return;
      case 'WRTE':
        // Shell stdin and the like: taken and acknowledged, not used by the simulated commands.
        if (stream) this.#send({ command: 'OKAY', arg0: msg.arg1, arg1: msg.arg0, payload: empty });
        else this.#send({ command: 'CLSE', arg0: 0, arg1: msg.arg0, payload: empty });
        return;
      case 'CLSE':
        this.#streams.delete(msg.arg1);
        // A reboot already accepted goes ahead even if the host hung up first.
        if (stream?.closing) stream.after?.();
        return;
      default:
        return;
    }
  }

  #onConnect(msg: AdbMessage): void {
    this.#maxPayload = Math.max(ADB_MAX_PAYLOAD_V1, Math.min(ADB_MAX_PAYLOAD, msg.arg1));
    this.#parser.verifyChecksum = msg.arg0 < ADB_VERSION_SKIP_CHECKSUM;
    this.#streams.clear();
    this.#state = 'auth';
    this.#sendToken();
  }

  #sendToken(): void {
    this.#send({ command: 'AUTH', arg0: ADB_AUTH.TOKEN, arg1: 0, payload: this.#auth.newToken() });
  }

  #onAuth(msg: AdbMessage): void {
    if (this.#state !== 'auth') return;
    if (msg.arg0 === ADB_AUTH.SIGNATURE) {
      if (this.#auth.acceptsSignature(msg.payload)) this.#online();
      else this.#sendToken();
    } else if (msg.arg0 === ADB_AUTH.RSAPUBLICKEY && this.#auth.allowsOfferedKey(msg.payload)) {
      this.#online();
    }
    // An unlisted key gets no answer: the host shows the device as unauthorized.
  }

  #online(): void {
    this.#state = 'online';
    const banner = formatBanner(this.handler.state(), this.handler.bannerProperties(), ADB_DEVICE_FEATURES);
    this.#send({ command: 'CNXN', arg0: ADB_VERSION, arg1: ADB_MAX_PAYLOAD, payload: utf8.encode(banner) });
  }

  async #onOpen(remoteId: number, service: string): Promise<void> {
    if (remoteId === 0) return;
    const shell = parseShellService(service);
    const reboot = /^reboot:(.*)$/.exec(service);
    if ((shell && shell.command.length > 0) || reboot) {
      const localId = this.#nextId++;
      const stream: OutStream = { remoteId, queue: [], inFlight: false, closing: false };
      this.#streams.set(localId, stream);
      this.#send({ command: 'OKAY', arg0: localId, arg1: remoteId, payload: empty });
      if (shell) await this.#runShell(localId, stream, shell.command, shell.v2);
      else await this.#runReboot(localId, stream, reboot![1]!);
      return;
    }
    // Interactive shells, sync, tcpip, … are not simulated: refuse as adbd refuses an unknown service.
    this.#send({ command: 'CLSE', arg0: 0, arg1: remoteId, payload: empty });
  }

  async #runShell(localId: number, stream: OutStream, command: string, v2: boolean): Promise<void> {
    let answer: ShellAnswer;
    try {
      answer = await this.handler.shell(command);
    } catch (err) {
      answer = { stdout: '', stderr: `${(err as Error).message}\n`, exitCode: 1 };
    }
    const stdout = utf8.encode(answer.stdout);
    const stderr = utf8.encode(answer.stderr ?? '');
    if (v2) {
      // adbd forwards output as it reads it, in buffer-sized packets; so do we.
      for (const [id, bytes] of [
        [SHELL_ID.stdout, stdout],
        [SHELL_ID.stderr, stderr],
      ] as const) {
        for (let o = 0; o < bytes.byteLength; o += SHELL_PACKET_DATA) {
          this.#write(localId, stream, encodeShellPacket(id, bytes.subarray(o, o + SHELL_PACKET_DATA)));
        }
      }
      const status = new Uint8Array([answer.exitCode & 0xff]);
      this.#write(localId, stream, encodeShellPacket(SHELL_ID.exit, status));
    } else {
      this.#write(localId, stream, stdout);
      this.#write(localId, stream, stderr);
    }
    this.#closeWhenDrained(localId, stream);
  }

  async #runReboot(localId: number, stream: OutStream, target: string): Promise<void> {
    try {
      await this.handler.reboot(target);
    } catch (err) {
      this.#write(localId, stream, utf8.encode(`reboot failed: ${(err as Error).message}\n`));
      this.#closeWhenDrained(localId, stream);
      return;
    }
    // The device goes down: close the stream, and end the session once those bytes are out (the owner
    // destroys the link at once, which would drop unsent bytes); bounded, for a host that stopped reading.
    this.#closeWhenDrained(localId, stream, () => {
      const end: AdbSessionEnd = { reason: 'reboot', target };
      this.#goingDown = end;
      const done = () => {
        clearTimeout(timer);
        this.#end(end);
        this.link.destroy();
      };
      const timer = setTimeout(done, FLUSH_BEFORE_REBOOT_MS);
      this.link.end(done);
    });
  }

  #write(localId: number, stream: OutStream, bytes: Uint8Array): void {
    for (let o = 0; o < bytes.byteLength; o += this.#maxPayload) {
      stream.queue.push(bytes.subarray(o, o + this.#maxPayload));
    }
    this.#pump(localId, stream);
  }

  #closeWhenDrained(localId: number, stream: OutStream, after?: () => void): void {
    stream.closing = true;
    if (after) stream.after = after;
    this.#pump(localId, stream);
  }

  /** Classic flow control: one WRTE in flight per stream until the host's OKAY. */
  #pump(localId: number, stream: OutStream): void {
    // The host closed the stream (its CLSE already ran what had to happen after it): send nothing more.
    if (stream.inFlight || !this.#streams.has(localId)) return;
    const next = stream.queue.shift();
    if (next) {
      stream.inFlight = true;
      this.#send({ command: 'WRTE', arg0: localId, arg1: stream.remoteId, payload: next });
      return;
    }
    if (!stream.closing) return;
    this.#streams.delete(localId);
    this.#send({ command: 'CLSE', arg0: localId, arg1: stream.remoteId, payload: empty });
    stream.after?.();
  }
}
