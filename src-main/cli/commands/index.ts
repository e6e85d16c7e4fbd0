import type { Command } from '../command.ts';
import { mountCommand } from './mount.ts';

/** Every `berth` command, in the order `berth --help` lists them. Add a command here. */
export const COMMANDS: readonly Command[] = [mountCommand];
