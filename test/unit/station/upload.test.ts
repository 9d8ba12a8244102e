/** The station's package upload: token, extension and size checks, streamed to disk, nothing left behind. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createService } from '../../../main/station/run-station.js';
import { type Station, startStation } from '../../../main/station/server.js';
import { uploadFileName } from '../../../main/station/upload.js';

function filesUnder(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch {
    return [];
  }
  return entries.filter((e) => /\.(flp|tmp)$/.test(e));
}

describe('station upload endpoint', () => {
  const root = mkdtempSync(join(tmpdir(), 'flashline-upload-'));
  const uploadDir = join(root, 'uploads');
  let station: Station;

  before(async () => {
    station = await startStation({
      host: '127.0.0.1',
      port: 0,
      staticDir: root,
      service: createService(),
      uploadDir,
      uploadLimitBytes: 64 * 1024,
    });
  });
  after(async () => {
    await station.close();
    rmSync(root, { recursive: true, force: true });
  });

  const post = (body: Uint8Array | ReadableStream<Uint8Array>, headers: Record<string, string>) =>
    fetch(`${station.origin}/upload`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream', ...headers },
      body,
      duplex: 'half',
    } as RequestInit);
  const auth = () => ({ Authorization: `Bearer ${station.token}` });

  it('stores a package and answers its path', async () => {
    const bytes = new Uint8Array(40_000).map((_, i) => i % 251);
    const res = await post(bytes, { ...auth(), 'X-Flashline-Filename': encodeURIComponent('My pkg.flp') });
    assert.equal(res.status, 200);
    const { path } = (await res.json()) as { path: string };
    assert.ok(!relative(uploadDir, path).startsWith('..'), path);
    assert.match(path, /My_pkg\.flp$/);
    assert.deepEqual(readFileSync(path), Buffer.from(bytes));
  });

  it('refuses without the token, a wrong extension and a wrong method', async () => {
    const before = filesUnder(uploadDir).length;
    const noToken = await post(new Uint8Array(10), { 'X-Flashline-Filename': 'a.flp' });
    assert.equal(noToken.status, 401);
    const wrongExt = await post(new Uint8Array(10), { ...auth(), 'X-Flashline-Filename': 'a.exe' });
    assert.equal(wrongExt.status, 400);
    assert.match(((await wrongExt.json()) as { message: string }).message, /choose a \.flp file/);
    const get = await fetch(`${station.origin}/upload`, { headers: auth() });
    assert.equal(get.status, 405);
    assert.equal(filesUnder(uploadDir).length, before);
  });

  it('refuses a body over the cap, declared or streamed, and leaves no partial file', async () => {
    const before = filesUnder(uploadDir).length;
    const declared = await post(new Uint8Array(65 * 1024), { ...auth(), 'X-Flashline-Filename': 'big.flp' });
    assert.equal(declared.status, 413);
    // No Content-Length: the cap is enforced while the bytes flow.
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 200 * 1024) return controller.close();
        sent += 16 * 1024;
        controller.enqueue(new Uint8Array(16 * 1024));
      },
    });
    const streamed = await post(stream, { ...auth(), 'X-Flashline-Filename': 'big2.flp' }).catch(
      (err: unknown) => err,
    );
    if (streamed instanceof Response) {
      assert.equal(streamed.status, 413);
      assert.match(
        ((await streamed.json()) as { message: string }).message,
        /larger than this station accepts/,
      );
    }
    assert.equal(filesUnder(uploadDir).length, before);
  });

  it('keeps only a sanitized base name inside a fresh folder', () => {
    const name = uploadFileName(encodeURIComponent('../../etc/x y.flp'));
    assert.match(name, /^[0-9a-f]{16}\/x_y\.flp$/);
    assert.throws(() => uploadFileName('%E0%A4%A'), /not valid/);
    assert.throws(() => uploadFileName(undefined), /choose a \.flp file/);
  });
});
