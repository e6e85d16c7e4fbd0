import type { PutItem, PutOutcome } from '../ipfs/mfs/MfsBackend.ts';
import { FsError, toFsError } from '../vfs/FsError.ts';

// The mfs guest's file puts, in batches (issue 10). Each put waits its turn in the
// guest's write lock like any namespace change, so the order of changes is kept; when its
// turn comes it takes every put that queued meanwhile, and the backend links the batch
// with as few MFS updates as it can (MfsBackend.putFiles). Puts nobody waits for (a
// file's last close: the kernel does not wait for a FUSE release) start WINDOW_MS after
// the first of them, like a file system's commit interval: an untar runs meanwhile (its
// lookups reach the node between batches instead of queueing behind one put per file),
// so its files go in dozens at a time. A put someone waits for (fsync, a rename, a
// reader of the file) starts at once and takes the waiting ones along. A put queued
// while a batch waits in the lock joins it (it lands when that batch runs); the guest
// itself waits for the puts at or below a path before changing that path (afterPuts in
// mfs.ts), so no change overtakes a put it depends on. Items are asked
// for when their batch starts (a mode or mtime set meanwhile goes in with them; a file
// removed or replaced meanwhile is skipped: it is not put back).

/** How long a batch may take (big files included) before it is given up. */
const BATCH_TIMEOUT_MS = 10 * 60_000;
/** Files in one batch at most. */
const MAX_BATCH = 256;
/** How long a put nobody waits for may wait for others to join its batch. */
export const WINDOW_MS = 50;

interface Waiting {
  /** The path when queued (to keep two puts of one path apart). */
  path: string;
  item: () => PutItem | undefined;
  /** `undefined`: skipped (the file was removed or replaced while it waited). */
  resolve: (cid: string | undefined) => void;
  reject: (err: FsError) => void;
}

/** The put queue of one mfs guest. Owner: the MfsGuest. */
export class PutQueue {
  private readonly waiting: Waiting[] = [];
  private scheduled = false;
  /** The commit-interval timer of a scheduled batch, until it enters the lock. */
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Puts a batch (MfsBackend.putFiles). */
    private readonly run: (items: PutItem[], opts: { signal: AbortSignal }) => Promise<PutOutcome[]>,
    /** Runs `fn` in the guest's write lock, after every change queued before it. */
    private readonly exclusive: (fn: () => Promise<void>) => Promise<void>,
  ) {}

  /**
   * Queues a put of `path`; resolves with the CID once the file is linked there, or with
   * undefined when `item` says (at batch start) there is nothing to put any more. `urgent`:
   * someone waits for it, so its batch starts now.
   */
  put(path: string, item: () => PutItem | undefined, urgent: boolean): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ path, item, resolve, reject });
      this.schedule(urgent);
    });
  }

  /** Starts the batch that waits for the commit interval now (someone waits for a put in it). */
  hurry(): void {
    if (this.timer) this.schedule(true);
  }

  private schedule(urgent: boolean): void {
    if (this.scheduled) {
      if (urgent && this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.enter();
      }
      return;
    }
    this.scheduled = true;
    if (urgent) this.enter();
    else {
      // not unref'd: a process that ends must not drop the puts still waiting here
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.enter();
      }, WINDOW_MS);
    }
  }

  /** Queues the batch in the guest's write lock. */
  private enter(): void {
    void this.exclusive(async () => {
      this.scheduled = false;
      const batch: Waiting[] = [];
      const items: PutItem[] = [];
      const paths = new Set<string>();
      while (this.waiting.length > 0 && batch.length < MAX_BATCH) {
        // two puts of one path never share a batch: the later must win, so it waits
        if (paths.has(this.waiting[0]!.path)) break;
        const w = this.waiting.shift()!;
        paths.add(w.path);
        const item = w.item();
        if (item) {
          items.push(item);
          batch.push(w);
        } else w.resolve(undefined);
      }
      // the rest (past the batch size) follows at once
      if (this.waiting.length > 0) this.schedule(true);
      if (batch.length === 0) return;
      let outcomes: PutOutcome[];
      try {
        outcomes = await this.run(items, { signal: AbortSignal.timeout(BATCH_TIMEOUT_MS) });
      } catch (err) {
        const e = toFsError(err);
        for (const w of batch) w.reject(e);
        return;
      }
      batch.forEach((w, i) => {
        const o = outcomes[i];
        if (!o) w.reject(new FsError('IO', `put ${items[i]!.path}: the MFS backend reported nothing for it`));
        else if ('cid' in o) w.resolve(o.cid);
        else w.reject(o.error);
      });
    });
  }
}
