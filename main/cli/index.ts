import { exitWith } from './exit.js';
import { runCli } from './program.js';

await exitWith(await runCli(process.argv.slice(2)));
