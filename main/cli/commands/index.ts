/**
 * The registry of sub-commands. Each entry adds one command (with its own --help) to the program.
 * Add new commands here, one line each.
 */
import type { Command } from 'commander';
import { registerDemo } from './demo.js';
import { registerDevices } from './devices.js';
import { registerFlash } from './flash.js';
import { registerInspect } from './inspect.js';
import { registerKeygen } from './keygen.js';
import { registerPack } from './pack.js';
import { registerReport } from './report.js';
import { registerStation } from './station.js';
import { registerVerify } from './verify.js';
import { registerVirtualDevice } from './virtual-device.js';

export type RegisterCommand = (program: Command) => void;

export const commands: readonly RegisterCommand[] = [
  registerDemo,
  registerDevices,
  registerFlash,
  registerInspect,
  registerKeygen,
  registerPack,
  registerReport,
  registerStation,
  registerVerify,
  registerVirtualDevice,
];
