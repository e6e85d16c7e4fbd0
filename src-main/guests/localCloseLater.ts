import { close } from 'node:fs';
import { Worker } from 'node:worker_threads';

// Descriptors whose close may wait on the disk, closed off the JavaScript thread in batches.
// The last descriptor of a removed node frees its inode in close(2): ext4 truncates it and,
// mounted with `discard`, waits for the disk (localFreeLater.ts, localDirs.ts). Node's
// `fs.close(fd, cb)` moves that off this thread, but one threadpool job per descriptor costs
// this thread a wake-up of a pool thread, and one of its own for the callback (~5 futex
// calls per REMOVE of the NFS host, measured with `strace -c -f`).
//
// So descriptors are gathered for up to DELAY_MS (or BATCH of them) and closed in one message
// to a worker thread of their own, which answers once. That worker runs plain JavaScript and
// loads no native module: the process may exit while it starts (a daemon stopped as its
// guests close drops their folders' descriptors here), and a worker cut off inside koffi's
// load aborts the whole process (seen: FATAL ERROR napi_throw). Where the worker cannot run,
// each is closed on the threadpool as before. A descriptor is never closed twice: one whose
// batch was lost with a failed worker is left open (its callback still called) rather than
// closed again after its number may have been reused.

/** Most descriptors gathered before they are sent. */
const BATCH = 64;
/** Longest a descriptor waits for its batch. */
const DELAY_MS = 5;

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { closeSync } = require('node:fs');
parentPort.on('message', (fds) => {
  for (const fd of fds) { try { closeSync(fd); } catch {} }
  parentPort.postMessage(fds.length);
});`;

/** This process's descriptors gathered for the next batch (module state: one worker per process). */
let fds: number[] = [];
let dones: Array<() => void> = [];
let timer: NodeJS.Timeout | undefined;
/** Callbacks of the batches sent, oldest first (the worker answers in order). */
const inFlight: Array<Array<() => void>> = [];
let worker: Worker | undefined;
/** Set once the worker failed to start or ended: every later close goes to the threadpool. */
let noWorker = false;

/**
 * Closes `fd` off this thread, soon (within DELAY_MS), then calls `done` on this thread.
 * Errors of the close are ignored: the descriptor is this process's own and closed once.
 */
export function closeLater(fd: number, done: () => void = () => {}): void {
  if (noWorker) {
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
  return inFlight.reduce((n, batch) => n + batch.length, fds.length);
}

function send(): void {
  clearTimeout(timer);
  timer = undefined;
  const batch = fds;
  const called = dones;
  fds = [];
  dones = [];
  if (batch.length === 0) return;
  const w = started();
  if (!w) {
    // Nothing was sent: each is closed here, once.
    for (let i = 0; i < batch.length; i++) close(batch[i]!, called[i]!);
    return;
  }
  inFlight.push(called);
  w.ref();
  w.postMessage(batch);
}

function started(): Worker | undefined {
  if (worker || noWorker) return worker;
  try {
    // The descriptors are the main thread's: not the worker's to track (Node warns on each close otherwise).
    const w = new Worker(SOURCE, { eval: true, trackUnmanagedFds: false });
    w.unref();
    w.on('message', () => {
      for (const d of inFlight.shift() ?? []) d();
      if (inFlight.length === 0) w.unref();
    });
    const fail = (): void => {
      if (worker !== w) return;
      worker = undefined;
      noWorker = true;
      // Closed or not, never closed again: their numbers may belong to new descriptors by now.
      for (const batch of inFlight.splice(0)) for (const d of batch) d();
    };
    w.on('error', fail);
    w.on('exit', fail);
    worker = w;
  } catch {
    noWorker = true;
  }
  return worker;
}
