/**
 * How the `flashline` process ends once its command has resolved: stdout and stderr are flushed, then the
 * process exits with the command's code. Every command also closes what it opened, so this explicit exit is
 * the second line of defence: a forgotten socket, timer or serial port in some library must never keep a
 * factory script waiting on a command that has finished.
 *
 * Tests set FLASHLINE_CHECK_EXIT=1 to check the first line of defence instead: the process is left to end
 * by itself, and if something still holds it open after CHECK_GRACE_MS the holders are printed and the
 * process exits with LEAK_EXIT_CODE, so a leak fails the test that caused it.
 */
export const CHECK_EXIT_ENV = 'FLASHLINE_CHECK_EXIT';
export const LEAK_EXIT_CODE = 70;
const CHECK_GRACE_MS = 3000;

function flushed(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    // The callback of an empty write runs once everything written before it has been handed to the OS.
    if (!stream.write('', () => resolve())) stream.once('drain', () => resolve());
  });
}

export async function exitWith(code: number): Promise<void> {
  process.exitCode = code;
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  if (process.env[CHECK_EXIT_ENV] !== '1') process.exit(code);
  setTimeout(() => {
    const holders = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    process.stderr.write(
      `flashline: the command ended but the process was still held open by: ${holders.join(', ')}\n`,
    );
    process.exit(LEAK_EXIT_CODE);
  }, CHECK_GRACE_MS).unref();
}
