/**
 * `npm start` decides here whether the desktop window can open, or why not (then it serves station mode
 * instead). Pure: the caller passes what it found, so every branch is unit-tested.
 */

export interface LaunchFacts {
  readonly platform: NodeJS.Platform;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The Electron executable path, or undefined when the `electron` package could not name one. */
  readonly electronPath: string | undefined;
  /** Whether that path exists and is a file. */
  readonly electronBinaryExists: boolean;
}

export type LaunchDecision =
  | { readonly kind: 'electron'; readonly electronPath: string }
  | { readonly kind: 'station'; readonly reason: string };

export function decideLaunch(facts: LaunchFacts): LaunchDecision {
  if (facts.env.FLASHLINE_FORCE_STATION === '1') {
    return { kind: 'station', reason: 'FLASHLINE_FORCE_STATION=1 is set' };
  }
  if (!facts.electronPath || !facts.electronBinaryExists) {
    return {
      kind: 'station',
      reason:
        'the Electron binary is not installed (its download was skipped or failed; with internet access, `npm run fetch-electron` fetches it)',
    };
  }
  // Linux (and other X11/Wayland systems) need a display server; macOS and Windows always have one.
  const needsDisplay = facts.platform !== 'darwin' && facts.platform !== 'win32';
  if (needsDisplay && !facts.env.DISPLAY && !facts.env.WAYLAND_DISPLAY) {
    return { kind: 'station', reason: 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  }
  return { kind: 'electron', electronPath: facts.electronPath };
}

/** The one line `npm start` prints when it falls back. */
export function fallbackLine(reason: string): string {
  return `Flashline desktop window cannot start here: ${reason}. Starting station mode instead; open the URL below in a browser.`;
}
