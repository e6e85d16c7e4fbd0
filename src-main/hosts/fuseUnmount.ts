import type { ShutdownLevel } from '../../src-shared/api.ts';
import { runCommand } from '../sys/runCommand.ts';
import { FsError } from '../vfs/FsError.ts';
import { isMounted } from './mountInfo.ts';

// Taking a FUSE mount away, with the patience a shutdown level asks for. The FUSE host's
// unmount() is the only caller in the service's path: one unmount runs one clean
// `fusermount -u` per attempt and at most one lazy `fusermount -uz`, never both twice.

/** How long one fusermount may take before it counts as hung. */
const FUSERMOUNT_TIMEOUT_MS = 10_000;
/** How often a busy mount is tried again (patient, short). */
const RETRY_MS = 500;

/** Runs fusermount (sys/runCommand.ts); resolves with its error text, or undefined on success. */
async function fusermount(args: string[]): Promise<string | undefined> {
  const r = await runCommand('fusermount', args, { timeoutMs: FUSERMOUNT_TIMEOUT_MS });
  if (r.code === 0) return undefined;
  return r.stderr.trim() || (r.timedOut ? `fusermount ${args.join(' ')} did not finish within ${FUSERMOUNT_TIMEOUT_MS} ms` : `fusermount exited with status ${r.code}`);
}

/** Detaches a FUSE mount at once even while files are open (`fusermount -uz`, else `umount -l`). */
export async function lazyUnmount(mountpoint: string): Promise<void> {
  const first = await fusermount(['-uz', '--', mountpoint]);
  if (first === undefined || !(await isMounted(mountpoint))) return;
  const r = await runCommand('umount', ['-l', '--', mountpoint], { timeoutMs: FUSERMOUNT_TIMEOUT_MS });
  if (r.code !== 0 && (await isMounted(mountpoint))) throw new FsError('IO', `could not detach ${mountpoint}: ${first}; umount -l: ${r.stderr.trim() || `status ${r.code}`}`);
}

/** One clean `fusermount -u`: undefined once nothing is mounted there, else why not (busy files). */
export async function cleanUnmount(mountpoint: string): Promise<string | undefined> {
  if (!(await isMounted(mountpoint))) return undefined;
  const failure = await fusermount(['-u', '--', mountpoint]);
  if (failure === undefined || !(await isMounted(mountpoint))) return undefined;
  return failure;
}

/**
 * Takes the mount at `mountpoint` away. Busy files make `fusermount -u` fail: `patient`
 * waits for them as long as it takes, `short` for `graceMs` and then detaches lazily,
 * `immediate` detaches lazily at once. Resolves once nothing is mounted there.
 */
export async function unmountFuse(mountpoint: string, level: ShutdownLevel, opts: { graceMs: number; log?: (message: string) => void }): Promise<void> {
  switch (level) {
    case 'immediate':
      return lazyUnmount(mountpoint);
    case 'patient':
    case 'short': {
      const started = Date.now();
      for (;;) {
        const busy = await cleanUnmount(mountpoint);
        if (busy === undefined) return;
        if (level === 'short' && Date.now() - started >= opts.graceMs) {
          opts.log?.(`${busy}; forcing (lazy unmount) after ${Math.round(opts.graceMs / 1000)} s`);
          return lazyUnmount(mountpoint);
        }
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    default: {
      const never: never = level;
      throw new Error(`unknown shutdown level ${String(never)}`);
    }
  }
}
