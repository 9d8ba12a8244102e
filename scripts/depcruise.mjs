#!/usr/bin/env node
// Runs dependency-cruiser (the house plan's import rules) over whichever source folders exist.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const folders = ['main', 'renderer', 'electron', 'virtual-device', 'bench', 'test'].filter((f) =>
  existsSync(f),
);
const r = spawnSync('npx', ['--no-install', 'depcruise', '--config', '.dependency-cruiser.cjs', ...folders], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
