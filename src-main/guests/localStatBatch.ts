import { Worker } from 'node:worker_threads';
import { hasRawBytes } from '../sys/byteNames.ts';

// lstat of many names of one folder in one batch, done by a worker thread. A listing is
// all lstat: through the threadpool each call cost a queue hop, a wake-up, a callback and
// a Stats object on the event loop, measured here at ~15 µs of main-thread CPU per entry
// under load (10,000 entries: ~150 ms); a worker running lstatSync in a loop costs ~2 µs
// per entry and answers with one packed array, so `nfs-ls -R` and `find` read fresh
// attributes without a cache. The worker is shared by every local guest of the process,
// unref'd, and replaced when a batch does not come back in time (a lstat stuck on a dead
// network mount below the folder); the caller then falls back to threadpool lstat.

/** Numbers per name in a batch's answer. */
export const STAT_FIELDS = 14;
/**
 * Field offsets in a row (mode is -1 for a name that could not be lstat-ed: it vanished).
 * Each time is two numbers, whole seconds and the nanoseconds past them, so that it stays
 * exact (a lookup of the same node gives exact nanoseconds: the two must agree).
 */
export const F = { mode: 0, nlink: 1, uid: 2, gid: 3, size: 4, ino: 5, mtimeS: 6, mtimeNsec: 7, atimeS: 8, atimeNsec: 9, ctimeS: 10, ctimeNsec: 11, rdev: 12, blocks: 13 } as const;

/**
 * Fewer names than this go through the threadpool (undefined is answered): a message each
 * way costs more than a few threadpool lstats. Measured with `find` over /usr/share/doc
 * (~1,500 small folders): CPU per find 1.15 s with every folder through the worker, 1.0 s
 * with none, 0.92 s with this bound.
 */
const MIN_BATCH = 32;
/** How long a batch may take before the worker is given up on. */
const STUCK_MS = 5_000;

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { lstatSync } = require('node:fs');
const NS = 1000000000n;
parentPort.on('message', (m) => {
  const names = m.names;
  const out = new Float64Array(names.length * ${STAT_FIELDS});
  for (let i = 0; i < names.length; i++) {
    const o = i * ${STAT_FIELDS};
    let st;
    try { st = lstatSync(m.dir + '/' + names[i], { bigint: true, throwIfNoEntry: false }); } catch { st = undefined; }
    if (!st) { out[o] = -1; continue; }
    out[o] = Number(st.mode); out[o + 1] = Number(st.nlink); out[o + 2] = Number(st.uid); out[o + 3] = Number(st.gid); out[o + 4] = Number(st.size);
    out[o + 5] = Number(st.ino);
    out[o + 6] = Number(st.mtimeNs / NS); out[o + 7] = Number(st.mtimeNs % NS);
    out[o + 8] = Number(st.atimeNs / NS); out[o + 9] = Number(st.atimeNs % NS);
    out[o + 10] = Number(st.ctimeNs / NS); out[o + 11] = Number(st.ctimeNs % NS);
    out[o + 12] = Number(st.rdev);
    out[o + 13] = Number(st.blocks);
  }
  parentPort.postMessage({ id: m.id, buf: out.buffer }, [out.buffer]);
});
`;

interface Pending {
  resolve(rows: Float64Array | undefined): void;
  at: number;
}

/** The worker and its requests in flight; one per process (module state, owned here). */
class StatWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  dead = false;

  constructor() {
    this.worker = new Worker(SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; buf: ArrayBuffer }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      p.resolve(new Float64Array(m.buf));
      if (this.pending.size === 0) this.stopWatch();
    });
    this.worker.on('error', () => this.giveUp());
    this.worker.on('exit', () => this.giveUp());
  }

  ask(dir: string, names: readonly string[]): Promise<Float64Array | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, at: performance.now() });
      this.worker.postMessage({ id, dir, names });
      this.timer ??= setInterval(() => this.check(), STUCK_MS / 2);
    });
  }

  /** Every request in flight is answered undefined (the caller falls back) and the worker retired. */
  giveUp(): void {
    if (this.dead) return;
    this.dead = true;
    this.stopWatch();
    for (const p of this.pending.values()) p.resolve(undefined);
    this.pending.clear();
    void this.worker.terminate().catch(() => {});
  }

  private check(): void {
    const now = performance.now();
    for (const p of this.pending.values()) if (now - p.at > STUCK_MS) return this.giveUp();
  }

  private stopWatch(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

let shared: StatWorker | undefined;
/** Workers that failed to start or died; past a few, batches are not tried again. */
let failures = 0;

/**
 * lstat of `dir/name` for each name, as STAT_FIELDS numbers per name (F), or undefined
 * when the batch is small, holds a name that is not UTF-8, or no worker can do it (the caller
 * lstats through the threadpool).
 */
export async function lstatBatch(dir: string, names: readonly string[]): Promise<Float64Array | undefined> {
  if (names.length === 0) return new Float64Array(0);
  // The worker joins strings; a name that is not UTF-8 (sys/byteNames.ts) needs its bytes.
  if (names.length < MIN_BATCH || failures >= 3 || names.some(hasRawBytes)) return undefined;
  if (!shared || shared.dead) {
    try {
      shared = new StatWorker();
    } catch {
      failures++;
      return undefined;
    }
  }
  const w = shared;
  const rows = await w.ask(dir, names);
  if (!rows) failures++;
  return rows;
}
