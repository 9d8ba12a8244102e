import type { Command } from 'commander';
import { inspectPackage } from '../../package/index.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show a package manifest, signers and images (no trust needed; nothing is verified)')
    .argument('<package>', 'the .flp file')
    .option('--json', 'print as JSON', false)
    .action(async (path: string, opts: { json: boolean }) => {
      const r = await inspectPackage(path);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const m = r.manifest;
      const lines = [
        `package ${path} (format ${m.formatVersion}; NOT verified — use 'flashline verify')`,
        `  products:        ${m.products.join(', ')}${m.hardwareRevisions ? ` (hardware ${m.hardwareRevisions.join(', ')})` : ''}`,
        `  version:         ${m.version} (device reports ${m.expectedVersion} after update)`,
        `  rollback index:  ${m.rollbackIndex}`,
        `  created/expires: ${m.created} / ${m.expires}`,
        ...(m.minBootloaderVersion ? [`  min bootloader:  ${m.minBootloaderVersion}`] : []),
        ...(m.minFlashlineVersion ? [`  min Flashline:   ${m.minFlashlineVersion}`] : []),
        ...Object.entries(m.deviceRequirements ?? {}).map(
          ([k, v]) => `  device requires: ${k} = ${v.join(' or ')}`,
        ),
        `  signatures:      ${r.signatures.join(', ') || '(none)'}`,
        `  encrypted for:   ${r.encryptedFor ? r.encryptedFor.join(', ') : '(not encrypted)'}`,
        `  manifest sha256: ${r.manifestSha256}`,
        '  images:',
        ...m.images.map(
          (i) =>
            `    ${i.partition.padEnd(16)} ${String(i.size).padStart(12)} bytes  sha256 ${i.sha256}${i.slotted ? '  A/B' : ''}${i.sparse ? '  sparse' : ''}${i.kind && i.kind !== 'partition' ? `  ${i.kind}` : ''}`,
        ),
        ...(m.install
          ? [
              '  install steps:',
              ...m.install.map((s, n) => `    ${n + 1}. ${s.op} ${'partition' in s ? s.partition : s.slot}`),
            ]
          : []),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
