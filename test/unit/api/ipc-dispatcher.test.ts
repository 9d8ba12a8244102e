/**
 * The desktop IPC path end to end without Electron: the renderer's tRPC ipcLink talks through a bridge
 * (what the preload exposes) to electron/ipc-dispatcher.ts running the real appRouter.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTRPCClient, TRPCClientError } from '@trpc/client';
import { createIpcDispatcher, type IpcDispatcher } from '../../../electron/ipc-dispatcher.js';
import type { IpcBridge, IpcServerMessage } from '../../../main/api/ipc-protocol.js';
import { type AppRouter, appRouter } from '../../../main/api/router.js';
import type { DeviceEvent, DeviceInfo } from '../../../main/devices/device-info.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import { createService } from '../../../main/station/run-station.js';
import { ipcLink } from '../../../renderer/src/api/ipc-link.js';

const device: DeviceInfo = {
  id: 'tcp:127.0.0.1:5554',
  connection: 'tcp',
  address: '127.0.0.1:5554',
  mode: 'fastboot',
  state: 'ready',
  product: 'flashline-virtual',
  serial: 'VIRT1',
};

function setup() {
  const devices = new DeviceRegistry();
  const dispatcher = createIpcDispatcher({
    router: appRouter,
    createContext: () => createService({ mode: 'desktop', devices }),
  });
  const sent: IpcServerMessage[] = [];
  let listener: ((m: IpcServerMessage) => void) | undefined;
  const peer = {
    key: '1:1',
    send(m: IpcServerMessage) {
      sent.push(m);
      // Electron delivers asynchronously; so does this fake.
      queueMicrotask(() => listener?.(structuredClone(m)));
    },
  };
  const bridge: IpcBridge = {
    sendApiMessage: (m) => queueMicrotask(() => dispatcher.handle(peer, structuredClone(m))),
    onApiMessage(l) {
      listener = l;
      return () => {
        listener = undefined;
      };
    },
  };
  const client = createTRPCClient<AppRouter>({ links: [ipcLink(bridge)] });
  return { devices, dispatcher, client, sent, peer };
}

async function until(check: () => boolean): Promise<void> {
  // Bounded: IPC replies here are microtasks, so a few hundred turns are plenty.
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(check(), 'condition not reached');
}

describe('IPC dispatcher + ipcLink', () => {
  test('queries return what the router returns', async () => {
    const { client, devices } = setup();
    devices.upsert(device);
    const info = await client.app.info.query();
    assert.equal(info.product, 'Flashline');
    assert.equal(info.mode, 'desktop');
    assert.deepEqual(await client.devices.list.query(), [device]);
    assert.deepEqual(await client.devices.get.query({ id: device.id }), device);
  });

  test('invalid input comes back as bad_input data, and the next call still works', async () => {
    const { client } = setup();
    const err = await client.devices.get.query({ id: '' }).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TRPCClientError);
    const flashline = (err.data as { flashline: { code: string; message: string } }).flashline;
    assert.equal(flashline.code, 'bad_input');
    assert.match(flashline.message, /^Invalid request: id:/);
    assert.equal('stack' in (err.data as object), false);
    const missing = await client.devices.get.query({ id: 'nope' }).catch((e: unknown) => e);
    assert.equal((missing as TRPCClientError<AppRouter>).data?.flashline.code, 'not_found');
    assert.equal((await client.app.info.query()).product, 'Flashline');
  });

  test('subscriptions stream events and stop on unsubscribe', async () => {
    const { client, devices, dispatcher } = setup();
    const got: DeviceEvent[] = [];
    let started = false;
    const sub = client.devices.events.subscribe(undefined, {
      onStarted: () => {
        started = true;
      },
      onData: (e) => got.push(e),
    });
    await until(() => started && dispatcher.activeSubscriptions === 1);
    devices.upsert(device);
    devices.upsert({ ...device, state: 'busy' });
    devices.remove(device.id);
    await until(() => got.length === 4);
    assert.deepEqual(
      got.map((e) => e.type),
      ['added', 'ready', 'changed', 'removed'],
    );
    sub.unsubscribe();
    await until(() => dispatcher.activeSubscriptions === 0);
  });

  test('malformed messages are answered when they carry an id, ignored otherwise', async () => {
    const { dispatcher, peer, sent } = setup();
    dispatcher.handle(peer, null);
    dispatcher.handle(peer, 'hello');
    dispatcher.handle(peer, { kind: 'request', id: -1, type: 'query', path: 'app.info' });
    assert.equal(sent.length, 0);
    dispatcher.handle(peer, { kind: 'request', id: 7, type: 'delete', path: 'app.info', input: null });
    dispatcher.handle(peer, { kind: 'request', id: 8, type: 'query', path: 'no.such.path', input: null });
    await until(() => sent.length === 2);
    const [bad, missing] = sent;
    assert.equal(bad?.kind === 'error' && bad.error.data.flashline?.code, 'bad_input');
    assert.equal(missing?.kind === 'error' && missing.id, 8);
    assert.equal(missing?.kind === 'error' && missing.error.data.flashline?.code, 'not_found');
  });

  test('dropping a peer ends its subscriptions; close ends all', async () => {
    const { dispatcher, peer } = setup();
    const open = (d: IpcDispatcher, id: number) =>
      d.handle(peer, { kind: 'request', id, type: 'subscription', path: 'devices.events', input: undefined });
    open(dispatcher, 1);
    open(dispatcher, 2);
    await until(() => dispatcher.activeSubscriptions === 2);
    dispatcher.dropPeer(peer.key);
    assert.equal(dispatcher.activeSubscriptions, 0);
    open(dispatcher, 3);
    await until(() => dispatcher.activeSubscriptions === 1);
    dispatcher.close();
    assert.equal(dispatcher.activeSubscriptions, 0);
  });
});
