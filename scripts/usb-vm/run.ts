/**
 * Manual entry: `node --import tsx scripts/usb-vm/run.ts [hello|full] [KEY=VALUE...]` boots the VM once and prints
 * its console. The test (`npm run test:usb`) uses the same harness.
 */
import { existsSync } from 'node:fs';
import { runInVm } from './harness.js';

const which = process.argv[2] ?? 'hello';
const programs: Record<string, string> =
  which === 'hello'
    ? { hello: 'test/usb/vm/hello.ts' }
    : { 'vm-main': 'test/usb/vm/main.ts', gadget: 'virtual-device/usb-gadget/serve.ts' };
// KEY=VALUE arguments become environment variables of the VM program (e.g. USB_IMAGE_MIB=4).
const env = process.argv.slice(3).filter((a) => /^[A-Z_][A-Z0-9_]*=[\w.:-]*$/.test(a));
const command = `${env.join(' ')} node /app/${which === 'hello' ? 'hello' : 'vm-main'}.mjs`.trim();
const res = await runInVm({
  programs,
  command,
  hostBinaries:
    which === 'hello' ? [] : ['/usr/bin/fastboot', ...(existsSync('/usr/bin/adb') ? ['/usr/bin/adb'] : [])],
  onLine: (l) => process.stdout.write(`vm| ${l}\n`),
});
const { lines: _l, ...summary } = res;
console.log(JSON.stringify(summary, null, 2));
process.exitCode = res.rc === 0 ? 0 : 1;
