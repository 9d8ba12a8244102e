/**
 * The few shell commands the simulated Android answers (`adb shell …`): getprop, bootctl, echo, exit.
 * Commands are split on blanks with simple single/double quotes; anything else exits 127 as Android's
 * mksh does ("inaccessible or not found"). Not a shell: no pipes, no `;`, no variables.
 */
import type { ShellAnswer } from './adb/device-handler.js';
import type { BootControl, Slot } from './state-store.js';

export interface ShellContext {
  properties(): Map<string, string>;
  bootControl(): BootControl;
  /** The slot Android booted from. */
  bootedSlot(): Slot | null;
}

const SLOT_BY_INDEX: readonly Slot[] = ['a', 'b'];
const ok = (stdout: string): ShellAnswer => ({ stdout, exitCode: 0 });
const fail = (stderr: string, exitCode = 1): ShellAnswer => ({ stdout: '', stderr, exitCode });

/** Split `getprop "ro.a"` → ['getprop', 'ro.a']; null for an unbalanced quote. */
export function splitWords(command: string): string[] | null {
  const words: string[] = [];
  const re = /\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))/gy;
  let word: string | null = null;
  let last = 0;
  for (let m = re.exec(command); m; m = re.exec(command)) {
    const glued = m[0].length > 0 && !/^\s/.test(m[0]) && word !== null;
    const part = m[1] ?? m[2] ?? m[3] ?? '';
    if (glued) word += part;
    else {
      if (word !== null) words.push(word);
      word = part;
    }
    last = re.lastIndex;
  }
  if (command.slice(last).trim() !== '') return null;
  if (word !== null) words.push(word);
  return words;
}

export function runShell(command: string, ctx: ShellContext): ShellAnswer {
  const words = splitWords(command);
  if (words === null) return fail('/system/bin/sh: syntax error: unbalanced quote\n', 2);
  const [name, ...args] = words;
  if (name === undefined) return ok('');
  if (name === 'getprop') return getprop(args, ctx);
  if (name === 'bootctl') return bootctl(args, ctx);
  if (name === 'echo') return ok(`${args.join(' ')}\n`);
  if (name === 'exit') {
    const code = args[0] === undefined ? 0 : Number(args[0]);
    return Number.isInteger(code)
      ? { stdout: '', exitCode: code & 0xff }
      : fail(`exit: ${args[0]}: bad number\n`, 2);
  }
  return fail(`/system/bin/sh: ${name}: inaccessible or not found\n`, 127);
}

function getprop(args: string[], ctx: ShellContext): ShellAnswer {
  const props = ctx.properties();
  if (args.length === 0) return ok([...props].map(([k, v]) => `[${k}]: [${v}]\n`).join(''));
  // `getprop NAME [DEFAULT]`: an unset property prints DEFAULT (or an empty line).
  return ok(`${props.get(args[0]!) ?? args[1] ?? ''}\n`);
}

function slotArg(arg: string | undefined): Slot | null {
  return arg !== undefined && /^[01]$/.test(arg) ? SLOT_BY_INDEX[Number(arg)]! : null;
}

const BOOTCTL_USAGE =
  'usage: bootctl COMMAND\n  get-number-slots\n  get-current-slot\n  get-suffix SLOT\n' +
  '  is-slot-bootable SLOT\n  is-slot-marked-successful SLOT\n';

/** AOSP's bootctl: slots are numbers (0 = _a); `is-*` answer with the exit status (0 = yes, 1 = no). */
function bootctl(args: string[], ctx: ShellContext): ShellAnswer {
  const [verb, arg] = args;
  if (verb === 'get-number-slots') return ok(`${SLOT_BY_INDEX.length}\n`);
  if (verb === 'get-current-slot') {
    const booted = ctx.bootedSlot();
    return booted ? ok(`${SLOT_BY_INDEX.indexOf(booted)}\n`) : fail('bootctl: no slot booted\n');
  }
  if (verb === 'get-suffix' || verb === 'is-slot-bootable' || verb === 'is-slot-marked-successful') {
    const slot = slotArg(arg);
    if (!slot) return fail(`bootctl: invalid slot '${arg ?? ''}' (0 or 1)\n${BOOTCTL_USAGE}`, 1);
    if (verb === 'get-suffix') return ok(`_${slot}\n`);
    const st = ctx.bootControl().slots[slot];
    const yes = verb === 'is-slot-bootable' ? !st.unbootable : st.successful;
    return { stdout: '', exitCode: yes ? 0 : 1 };
  }
  return fail(BOOTCTL_USAGE, 64);
}
