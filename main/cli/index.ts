import { installFaultPolicy } from '../common/fault-policy.js';
import { FLASHLINE_VERSION } from '../common/version.js';
import { exitWith } from './exit.js';

const argv = process.argv.slice(2);
// `flashline --version` is what scripts and installers run to probe the tool: it is answered before the
// command-line parser (commander) and the command registry load — they are most of what a start costs.
// Every other form (`-V` among other flags, `help`) goes through commander's own `--version`.
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${FLASHLINE_VERSION}\n`);
} else {
  // One policy for unexpected rejections: log, fail the job they belong to, keep going (station, line, flash).
  installFaultPolicy({ log: (line) => process.stderr.write(`flashline: ${line}\n`) });
  const { runCli } = await import('./program.js');
  await exitWith(await runCli(argv));
}
