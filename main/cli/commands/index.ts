/**
 * The registry of sub-commands. Each entry adds one command (with its own --help) to the program.
 * Add new commands here, one line each.
 */
import type { Command } from 'commander';
import { registerStation } from './station.js';

export type RegisterCommand = (program: Command) => void;

export const commands: readonly RegisterCommand[] = [registerStation];
