import { close } from 'node:fs';
import { inWorker } from './localAtWorker.ts';
import { libc } from './localLibc.ts';

// Descriptors whose close may wait on the disk, closed off the JavaScript thread in batches.
// The last descriptor of a removed node frees its inode in close(2): ext4 truncates it and,
// mounted with `discard`, waits for the disk (localFreeLater.ts, localDirs.ts). Node's
// `fs.close(fd, cb)` moves that off this thread, but one threadpool job per descriptor costs
// this thread a wake-up of a pool thread, and one of its own for the callback (~5 futex
// calls per REMOVE of the NFS host, measured with `strace -c -f`).
//
// So descriptors are gathered for up to DELAY_MS (or BATCH of them) and closed in one message
// to the worker thread of the local guest's *at calls (localAtWorker.ts), which answers once.
// A call of a folder that is not inline may wait behind a batch there: a few ms at most,
// beside that folder's own latency. Where that worker cannot run (koffi or libc not loaded),
// each is closed on the threadpool as before. A descriptor is never closed twice: one whose
// batch was lost with a failed worker is left open (its callback still called) rather than
// closed again after its number may have been reused.

/** Most descriptors gathered before they are sent. */
const BATCH = 64;
/** Longest a descriptor waits for its batch. */
const DELAY_MS = 5;

/** This process's descriptors gathered for the next batch (module state: one worker per process). */
let fds: number[] = [];
let dones: Array<() => void> = [];
let timer: NodeJS.Timeout | undefined;
/** Descriptors sent whose batch has not answered yet. */
let sent = 0;

/**
 * Closes `fd` off this thread, soon (within DELAY_MS), then calls `done` on this thread.
 * Errors of the close are ignored: the descriptor is this process's own and closed once.
 */
export function closeLater(fd: number, done: () => void = () => {}): void {
  if (!libc()) {
    close(fd, () => done());
    return;
  }
  fds.push(fd);
  dones.push(done);
  if (fds.length >= BATCH) send();
  else timer ??= setTimeout(send, DELAY_MS).unref();
}

/** Descriptors gathered or sent whose close has not answered (tests). */
export function closesPending(): number {
  return fds.length + sent;
}

function send(): void {
  clearTimeout(timer);
  timer = undefined;
  const batch = fds;
  const called = dones;
  fds = [];
  dones = [];
  sent += batch.length;
  const finish = (): void => {
    sent -= batch.length;
    for (const d of called) d();
  };
  let answer: Promise<number>;
  try {
    answer = inWorker('closeAll', batch);
  } catch {
    // The worker could not start: nothing was sent, so each is closed here, once.
    sent -= batch.length;
    for (let i = 0; i < batch.length; i++) close(batch[i]!, called[i]!);
    return;
  }
  answer.then(finish, finish);
}
