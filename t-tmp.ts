import { startVirtualDevice } from './virtual-device/index.js';
import { execFileSync } from 'node:child_process';
const vd = await startVirtualDevice({ pty: true });
for (const args of [['--tcp', vd.address.slice(4)], ['--serial', vd.ptyPath!], ['--tcp','127.0.0.1:1'], []]) {
  const t = Date.now(); execFileSync(process.execPath, ['bin/flashline.js', 'devices', '--no-list-serial', ...args]); console.log(args, Date.now() - t);
}
await vd.stop();
