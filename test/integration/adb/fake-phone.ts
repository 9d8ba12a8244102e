/**
 * A small AdbDeviceHandler for the ADB tests, plus a TCP listener that serves ADB with it (one session per
 * connection), so both Flashline's client and Debian's adb talk to serveAdb over real sockets.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type {
  AdbDeviceHandler,
  AdbServerOptions,
  AdbSessionEnd,
  ShellAnswer,
} from '../../../virtual-device/adb/device-handler.js';
import { serveAdb } from '../../../virtual-device/adb/serve-adb.js';

export class FakePhone implements AdbDeviceHandler {
  readonly props = new Map<string, string>([
    ['ro.boot.slot_suffix', '_a'],
    ['ro.product.name', 'virtual_phone'],
    ['sys.boot_completed', '1'],
  ]);
  readonly reboots: string[] = [];
  readonly commands: string[] = [];

  state(): 'device' {
    return 'device';
  }
  bannerProperties(): Record<string, string> {
    return {
      'ro.product.name': 'virtual_phone',
      'ro.product.model': 'Virtual Phone',
      'ro.product.device': 'vphone',
    };
  }
  shell(command: string): ShellAnswer {
    this.commands.push(command);
    if (command === 'getprop') {
      return { stdout: [...this.props].map(([k, v]) => `[${k}]: [${v}]\n`).join(''), exitCode: 0 };
    }
    const get = /^getprop (\S+)$/.exec(command);
    if (get) return { stdout: `${this.props.get(get[1]!) ?? ''}\n`, exitCode: 0 };
    const exit = /^exit (\d+)$/.exec(command);
    if (exit) return { stdout: '', exitCode: Number(exit[1]) };
    const echo = /^echo (.*)$/.exec(command);
    if (echo) return { stdout: `${echo[1]}\n`, exitCode: 0 };
    if (command === 'big') return { stdout: 'x'.repeat(3 * 1024 * 1024), exitCode: 0 };
    if (command === 'medium') return { stdout: 'y'.repeat(700_000), stderr: 'warn\n', exitCode: 0 };
    return {
      stdout: '',
      stderr: `/system/bin/sh: ${command.split(' ')[0]}: inaccessible or not found\n`,
      exitCode: 127,
    };
  }
  reboot(target: string): void {
    if (!['', 'bootloader', 'fastboot', 'recovery'].includes(target))
      throw new Error(`unknown target '${target}'`);
    this.reboots.push(target);
  }
}

export interface AdbListener {
  readonly server: Server;
  readonly port: number;
  readonly sessions: Promise<AdbSessionEnd>[];
  close(): Promise<void>;
}

/** Serve ADB on 127.0.0.1 (free port) with `handler` for every connection. */
export async function listenAdb(
  handler: AdbDeviceHandler,
  options: Omit<AdbServerOptions, 'serial'> = {},
): Promise<AdbListener> {
  const sockets = new Set<Socket>();
  const sessions: Promise<AdbSessionEnd>[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    sessions.push(serveAdb(socket, handler, { serial: 'VIRT0001', ...options }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as { port: number }).port,
    sessions,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
