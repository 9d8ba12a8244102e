/**
 * The `flashline` command line: every sub-command is registered here, in one place.
 * Usage errors (unknown command, bad flag, invalid value) print one line plus usage and exit 2.
 */
import { Command, CommanderError } from 'commander';
import { FlashlineError } from '../common/errors.js';
import { FLASHLINE_VERSION } from '../common/version.js';
import { commands } from './commands/index.js';

export const USAGE_EXIT_CODE = 2;

export function buildProgram(): Command {
  const program = new Command('flashline')
    .description('Flashline: update phones, routers and other devices over USB, serial or TCP.')
    .version(FLASHLINE_VERSION, '-V, --version', 'print the Flashline version')
    .showSuggestionAfterError(true)
    // Sub-commands own their options (e.g. `pack --version V` is the package version, not Flashline's).
    .enablePositionalOptions()
    .configureHelp({ sortSubcommands: true });
  for (const register of commands) register(program);
  applyStrictness(program);
  return program;
}

function applyStrictness(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({
    // commander prints "error: …"; keep it to one line, then the usage line.
    outputError: (str, write) => write(`${str.trimEnd().split('\n')[0]}\n`),
  });
  cmd.showHelpAfterError(
    `(run '${cmd.name() === 'flashline' ? 'flashline' : `flashline ${cmd.name()}`} --help' for usage)`,
  );
  for (const sub of cmd.commands) applyStrictness(sub);
}

/** Run the CLI; resolves to the process exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return 0;
      return USAGE_EXIT_CODE;
    }
    if (err instanceof FlashlineError) {
      process.stderr.write(`flashline: ${err.message}\n`);
      return typeof err.code === 'number' ? err.code : 1;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`flashline: unexpected error: ${msg}\n`);
    if (process.env.FLASHLINE_DEBUG && err instanceof Error && err.stack)
      process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
