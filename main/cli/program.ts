/**
 * The `flashline` command line: every sub-command is registered here, in one place.
 * Usage errors (unknown command, bad flag, invalid value) print one line plus usage and exit 2.
 */
import { Command, CommanderError } from 'commander';
import { FlashlineError } from '../common/errors.js';
import { FLASHLINE_VERSION } from '../common/version.js';
import { commands } from './commands/index.js';

export const USAGE_EXIT_CODE = 2;

/** The sub-command an argument list asks for: the first word, or the one after `help`. */
function requestedCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * Build the program. Only the requested command's module is loaded (`all` loads every one, for tests
 * that inspect the whole command tree); the others are registered by name and summary, which is all that
 * `flashline --help` and "unknown command" suggestions need.
 */
export async function buildProgram(argv: readonly string[] = [], all = false): Promise<Command> {
  const program = new Command('flashline')
    .description('Flashline: update phones, routers and other devices over USB, serial or TCP.')
    .version(FLASHLINE_VERSION, '-V, --version', 'print the Flashline version')
    .showSuggestionAfterError(true)
    // Sub-commands own their options (e.g. `pack --version V` is the package version, not Flashline's).
    .enablePositionalOptions()
    .configureHelp({ sortSubcommands: true });
  const wanted = requestedCommand(argv);
  for (const entry of commands) {
    if (all || entry.name === wanted) (await entry.load())(program);
    else program.command(entry.name).description(entry.summary);
  }
  applyStrictness(program);
  return program;
}

/** `flashline`, `flashline pack`, `flashline virtual-device make-android-image`. */
function commandPath(cmd: Command): string {
  if (cmd.parent) return `${commandPath(cmd.parent)} ${cmd.name()}`;
  return cmd.name() === 'flashline' ? 'flashline' : `flashline ${cmd.name()}`;
}

function applyStrictness(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({
    // commander prints "error: …"; keep it to one line, then the usage line.
    outputError: (str, write) => write(`${str.trimEnd().split('\n')[0]}\n`),
  });
  cmd.showHelpAfterError(`(run '${commandPath(cmd)} --help' for usage)`);
  for (const sub of cmd.commands) applyStrictness(sub);
}

/** Run the CLI; resolves to the process exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = await buildProgram(argv);
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
