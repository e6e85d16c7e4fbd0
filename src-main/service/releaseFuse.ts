import type { ShutdownLevel } from '../../src-shared/api.ts';
import { cleanUnmount, lazyUnmount } from './mountinfo.ts';
import { sleep } from './timing.ts';

/**
 * Takes a FUSE mount point away with the patience a shutdown level asks for. Busy files
 * make `fusermount -u` fail: `patient` waits for them as long as it takes, `short` for
 * `graceMs` and then detaches lazily, `immediate` detaches lazily at once. Whatever is
 * left afterwards, the host's own unmount cleans up.
 */
export async function releaseFuse(mountpoint: string, level: ShutdownLevel, graceMs: number, log: (message: string) => void): Promise<void> {
  switch (level) {
    case 'immediate':
      await lazyUnmount(mountpoint).catch((err: unknown) => log(`lazy unmount of ${mountpoint} failed: ${(err as Error).message}`));
      return;
    case 'patient':
    case 'short': {
      const started = Date.now();
      for (;;) {
        const busy = await cleanUnmount(mountpoint);
        if (busy === undefined) return;
        if (level === 'short' && Date.now() - started >= graceMs) {
          log(`${busy}; forcing (lazy unmount) after ${Math.round(graceMs / 1000)} s`);
          return;
        }
        await sleep(500);
      }
    }
    default: {
      const never: never = level;
      throw new Error(`unknown shutdown level ${String(never)}`);
    }
  }
}
