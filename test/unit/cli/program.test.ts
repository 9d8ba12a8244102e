import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commands } from '../../../main/cli/commands/index.js';
import { buildProgram, runCli, USAGE_EXIT_CODE } from '../../../main/cli/program.js';

describe('flashline program', () => {
  it('registers every command under the name its registry entry gives, each with --help text', async () => {
    const program = await buildProgram([], true);
    const names = program.commands.map((c) => c.name()).sort();
    assert.deepEqual(names, commands.map((c) => c.name).sort());
    for (const cmd of program.commands)
      assert.ok(cmd.description().length > 0, `${cmd.name()} lacks a description`);
  });

  it('loads only the requested command and keeps the others listed', async () => {
    const program = await buildProgram(['verify', 'x.flp']);
    const verify = program.commands.find((c) => c.name() === 'verify');
    const pack = program.commands.find((c) => c.name() === 'pack');
    assert.ok(verify && verify.options.length > 0, 'verify is fully registered');
    assert.ok(pack && pack.options.length === 0, 'pack is only a stub');
  });

  it('answers a bad command or flag with exit code 2', async () => {
    assert.equal(await runCli(['no-such-command']), USAGE_EXIT_CODE);
    assert.equal(await runCli(['verify', '--no-such-flag']), USAGE_EXIT_CODE);
    assert.equal(await runCli(['--version']), 0);
  });
});
