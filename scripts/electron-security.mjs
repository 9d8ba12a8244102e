#!/usr/bin/env node
// `npm test` step 'electron-security': runs Doyensec's electronegativity over electron/ and fails on any
// finding that is not justified in electron/electronegativity-justifications.json (matched by check id
// and file), on a justification that no longer matches a finding (so the file cannot rot), and on any
// file the tool could not parse. Options: --input DIR, --justifications FILE (tests use fixtures).
//
// Offline by design: the tool's CLI fetches translations at start-up and its
// AvailableSecurityFixesGlobalCheck fetches Electron's release list; CI has no such network. So the
// library is called directly with its bundled English strings, and that one check is excluded (the
// Electron version is pinned in package.json and updated through npm; see docs/electron-security.md).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : resolve(process.argv[i + 1] ?? '');
}
const input = arg('--input', join(root, 'electron'));
const justificationsFile = arg(
  '--justifications',
  join(root, 'electron', 'electronegativity-justifications.json'),
);
const EXCLUDED_CHECKS = ['AvailableSecurityFixesGlobalCheck'];

// Replace the tool's i18n loader (which downloads translations) with its bundled en-US strings.
const i18nPath = require.resolve('@doyensec/electronegativity/dist/locales/i18n.js');
const i18n = createRequire(i18nPath)('i18n');
require.cache[i18nPath] = {
  id: i18nPath,
  filename: i18nPath,
  loaded: true,
  exports: async () => {
    i18n.configure({
      locales: ['en-US'],
      defaultLocale: 'en-US',
      directory: dirname(i18nPath),
      updateFiles: false,
      objectNotation: true,
      register: globalThis,
    });
    i18n.setLocale('en-US');
  },
};
const run = require('@doyensec/electronegativity');
const electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;

const result = await run({
  input,
  electronVersionOverride: electronVersion,
  isRelative: true,
  excludeFromScan: EXCLUDED_CHECKS.map((c) => c.toLowerCase()),
});

/** @type {{id: string, file: string, justification: string}[]} */
const justifications = JSON.parse(readFileSync(justificationsFile, 'utf8'));
const problems = [];
for (const j of justifications) {
  if (typeof j.justification !== 'string' || j.justification.trim().length < 30) {
    problems.push(`justification for ${j.id} in ${j.file} is missing or too short to explain anything`);
  }
}
const used = new Set();
for (const issue of result.issues) {
  const index = justifications.findIndex((j) => j.id === issue.id && j.file === issue.file);
  if (index === -1) {
    problems.push(
      `UNJUSTIFIED ${issue.id} (${issue.severity.name}) at ${issue.file}:${issue.location.line}: ${issue.description}`,
    );
  } else used.add(index);
}
justifications.forEach((j, i) => {
  if (!used.has(i))
    problems.push(`stale justification: ${j.id} in ${j.file} matches no finding any more; remove it`);
});
for (const e of result.errors) {
  if (!e.tolerable) problems.push(`could not parse ${e.file}: ${e.message}`);
}

process.stdout.write(
  `electronegativity ${electronVersion ? `(Electron ${electronVersion}) ` : ''}ran ${result.atomicChecks} atomic and ${result.globalChecks} global checks over ${input}: ${result.issues.length} findings, ${used.size} justified.\n`,
);
if (problems.length > 0) {
  for (const p of problems) process.stdout.write(`  ${p}\n`);
  process.stdout.write(
    'Fix the code, or justify the finding in electron/electronegativity-justifications.json.\n',
  );
  process.exit(1);
}
