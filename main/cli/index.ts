import { installFaultPolicy } from '../common/fault-policy.js';
import { exitWith } from './exit.js';
import { runCli } from './program.js';

// One policy for unexpected rejections: log, fail the job they belong to, keep going (station, line, flash).
installFaultPolicy({ log: (line) => process.stderr.write(`flashline: ${line}\n`) });
await exitWith(await runCli(process.argv.slice(2)));
