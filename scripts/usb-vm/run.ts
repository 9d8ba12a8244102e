/**
 * Manual entry: `node --import tsx scripts/usb-vm/run.ts [hello|full] [KEY=VALUE...]` boots the VM once and prints
 * its console. The test (`npm run test:usb`) uses the same harness.
 */
import { runInVm, USB_VM_PROGRAMS, usbVmHostBinaries } from './harness.js';

const which = process.argv[2] ?? 'hello';
const programs: Record<string, string> =
  which === 'hello' ? { hello: 'test/usb/vm/hello.ts' } : USB_VM_PROGRAMS;
// KEY=VALUE arguments become environment variables of the VM program (e.g. USB_IMAGE_MIB=4).
const env = process.argv.slice(3).filter((a) => /^[A-Z_][A-Z0-9_]*=[\w.:-]*$/.test(a));
const command = `${env.join(' ')} node /app/${which === 'hello' ? 'hello' : 'vm-main'}.mjs`.trim();
const res = await runInVm({
  programs,
  command,
  hostBinaries: which === 'hello' ? [] : usbVmHostBinaries(),
  onLine: (l) => process.stdout.write(`vm| ${l}\n`),
});
const { lines: _l, ...summary } = res;
console.log(JSON.stringify(summary, null, 2));
process.exitCode = res.rc === 0 ? 0 : 1;
