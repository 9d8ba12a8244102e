#!/usr/bin/env node
// `npm test`: lint, typecheck, electron-security (scripts/electron-security.mjs), then unit, integration and end-to-end tests with Node's own test runner
// (TypeScript loaded through tsx). `node scripts/test.mjs unit|integration|e2e` runs one group only.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const groups = ['unit', 'integration', 'e2e'];
const wanted = process.argv.slice(2);
const only = wanted.length > 0 ? wanted : ['lint', 'typecheck', 'electron-security', ...groups];

function findTests(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    if (name === 'artifacts' || name === 'fixtures' || name === 'node_modules') continue;
    if (statSync(p).isDirectory()) out = out.concat(findTests(p));
    else if (/\.test\.tsx?$/.test(name)) out.push(relative(root, p));
  }
  return out.sort();
}

function run(label, cmd, args, extraEnv = {}) {
  process.stdout.write(`\n=== ${label} ===\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  if (r.status !== 0) {
    process.stdout.write(`\n${label} failed (exit ${r.status ?? r.signal}).\n`);
    process.exit(r.status || 1);
  }
}

for (const step of only) {
  if (step === 'lint') run('lint', 'npm', ['run', '--silent', 'lint']);
  else if (step === 'typecheck') run('typecheck', 'npm', ['run', '--silent', 'typecheck']);
  else if (step === 'electron-security')
    run('electron-security', process.execPath, ['scripts/electron-security.mjs']);
  else if (groups.includes(step)) {
    const files = findTests(join(root, 'test', step));
    if (files.length === 0) {
      process.stdout.write(`\n=== ${step}: no tests ===\n`);
      continue;
    }
    const concurrency = step === 'unit' ? [] : ['--test-concurrency=1'];
    // A hung test must fail the run, not stall CI: no single test may take more than 5 minutes.
    concurrency.push('--test-timeout=300000');
    run(
      `${step} tests (${files.length} files)`,
      process.execPath,
      ['--import', 'tsx', '--test', ...concurrency, ...files],
      {
        FLASHLINE_TEST: '1',
      },
    );
  } else {
    process.stderr.write(
      `unknown test group '${step}' (use: lint, typecheck, electron-security, ${groups.join(', ')})\n`,
    );
    process.exit(2);
  }
}
