import { readMountInfo } from './mountInfo.ts';

// One watcher of /proc/self/mountinfo per process. Every FUSE mount wants to notice an
// external `fusermount -u`, and the service's health check wants the same list; with one
// timer each, 50 idle mounts re-read the file 50+ times a second. Here one timer reads it
// once per tick, only while someone listens, and hands the result to every listener.

/** How often the mount table is read while anyone listens. */
export const MOUNTINFO_WATCH_MS = 1_000;

/**
 * Called with every mount point listed and the number of the read that listed them
 * (see mountInfoReadNumber: a mount that came up after that read started may be missing).
 */
type Listener = (points: ReadonlySet<string>, read: number) => void;

const listeners = new Set<Listener>();
let timer: NodeJS.Timeout | undefined;
let reading = false;
let reads = 0;

/**
 * The number of the latest read begun. Something mounted now is only judged by a later
 * read: one already under way may have read the table before the mount was in it.
 */
export function mountInfoReadNumber(): number {
  return reads;
}

async function tick(): Promise<void> {
  if (reading) return;
  reading = true;
  const read = ++reads;
  try {
    const infos = await readMountInfo();
    // No /proc (macOS): nothing can be judged gone.
    if (infos.length === 0) return;
    const points = new Set(infos.map((m) => m.mountpoint));
    for (const l of [...listeners]) {
      try {
        l(points, read);
      } catch (err) {
        console.error(`mountinfo listener failed: ${(err as Error).message}`);
      }
    }
  } finally {
    reading = false;
  }
}

/** Calls `listener` with the listed mount points once per tick; returns the unsubscribe function. */
export function watchMountInfo(listener: Listener): () => void {
  listeners.add(listener);
  if (!timer) {
    timer = setInterval(() => void tick(), MOUNTINFO_WATCH_MS);
    timer.unref();
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/** Calls `onGone` once, the first tick `mountpoint` is no longer listed; returns the cancel function. */
export function watchUnmount(mountpoint: string, onGone: () => void): () => void {
  const after = reads;
  let stop = (): void => {};
  stop = watchMountInfo((points, read) => {
    if (read <= after || points.has(mountpoint)) return;
    stop();
    onGone();
  });
  return stop;
}

/** How many listeners the shared watcher has (tests and diagnostics). */
export function mountInfoListenerCount(): number {
  return listeners.size;
}
