import type { Command } from '../command.ts';
import { addCommand } from './add.ts';
import { cidCommand } from './cid.ts';
import { daemonCommand } from './daemon.ts';
import { linkCommand } from './link.ts';
import { listCommand } from './list.ts';
import { mountCommand } from './mount.ts';
import { shutdownCommand } from './shutdown.ts';
import { unmountCommand } from './unmount.ts';

/** Every `berth` command, in the order `berth --help` lists them. Add a command here. */
export const COMMANDS: readonly Command[] = [mountCommand, unmountCommand, listCommand, daemonCommand, shutdownCommand, addCommand, cidCommand, linkCommand];
