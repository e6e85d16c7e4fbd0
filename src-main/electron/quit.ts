import type { ShutdownLevel } from '../../src-shared/api.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { withTimeout } from '../service/timing.ts';
import { mountLabel } from './mountLabel.ts';
import type { ServiceMode } from './service.ts';

// Quit: everything the app hosts is unmounted before it exits. It asks the service for a
// `short` shutdown — the table's own escalation: each FUSE mount is unmounted cleanly,
// retried while files are open for the table's grace period (patient), then detached
// lazily. After a few seconds the mounts still going are the busy ones: the user is told
// their names, so the wait has a reason. Kept on the service's public API (close → stop →
// MountTable.shutdown) so a reworked teardown underneath keeps working. When the app is
// only attached to a headless daemon, the mounts are the daemon's and stay.

/** What quitting needs from the app's service. */
export interface QuitTarget {
  mode(): ServiceMode;
  mounts(): MountStatus[];
  close(level: ShutdownLevel): Promise<void>;
}

/** Options of one quit. */
export interface QuitOptions {
  /** Told the names of mounts still busy after `busyAfterMs`. */
  notifyBusy: (names: string[]) => void;
  log: (message: string) => void;
  /** When the still-unmounting mounts count as busy (default 3 s). */
  busyAfterMs?: number;
  /** The app exits after this long even if the service has not finished (default 60 s). */
  giveUpAfterMs?: number;
}

/** Unmounts everything the app hosts (patient, then forced), naming the busy mounts; resolves when the app may exit. */
export async function quitBerth(target: QuitTarget, opts: QuitOptions): Promise<void> {
  const hosting = target.mode() === 'host';
  const timer = hosting
    ? setTimeout(() => {
        const busy = target.mounts().filter((m) => m.state === 'unmounting' || m.state === 'mounted').map(mountLabel);
        if (busy.length) {
          opts.log(`quitting: waiting for open files in ${busy.join(', ')}`);
          opts.notifyBusy(busy);
        }
      }, opts.busyAfterMs ?? 3000)
    : undefined;
  try {
    await withTimeout(
      target.close('short').catch((err: unknown) => opts.log(`quitting: ${(err as Error).message}`)),
      opts.giveUpAfterMs ?? 60_000,
      () => opts.log('quitting: the service did not finish in time; exiting anyway (the next start cleans up what is left)'),
    );
  } finally {
    clearTimeout(timer);
  }
}
