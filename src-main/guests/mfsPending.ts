import { posix } from 'node:path';
import type { OpenFile } from './mfsOpenFile.ts';

// Where the mfs guest's written files are until their bytes are in MFS: open for writing
// (a cache file), or closed with their put under way. A namespace change (unlink, rmdir,
// rename, setattr) must wait for the puts at or below the paths it touches, and runs in
// the write lock the puts share; the puts need that lock too, so a change waits for them
// outside it and checks again inside (afterPuts).

/** A closed file and its put, until the put is done. */
interface Closing {
  file: OpenFile;
  done: Promise<void>;
}

/** The mfs guest's files not yet in MFS, and its write lock. */
export class MfsPending {
  /** Files open for writing, by MFS path. */
  readonly writing = new Map<string, OpenFile>();
  /** Files whose last handle closed and whose put is under way, by MFS path: opened again only once done. */
  private readonly closing = new Map<string, Closing>();
  /** Namespace writes and puts run one after another. */
  private lock: Promise<unknown> = Promise.resolve();

  /** `hurry` asks the put queue to start its batch now (someone waits for it). */
  constructor(private readonly hurry: () => void) {}

  /** The file at `mp` not in MFS yet, open or closing. */
  fileAt(mp: string): OpenFile | undefined {
    return this.writing.get(mp) ?? this.closing.get(mp)?.file;
  }

  /** Files whose bytes are not in MFS yet: open for writing, or closed and waiting for their put. */
  files(): Array<readonly [string, OpenFile]> {
    return [...this.writing, ...[...this.closing].map(([p, c]) => [p, c.file] as const)];
  }

  /** Notes that `f`'s last handle closed and its put `finished` is under way; `failed` hears if the put fails. */
  closed(f: OpenFile, finished: Promise<void>, failed: (err: unknown) => void): void {
    if (this.writing.get(f.path) === f) this.writing.delete(f.path);
    const entry = { file: f, done: finished };
    this.closing.set(f.path, entry);
    finished.then(
      () => this.closing.get(f.path) === entry && this.closing.delete(f.path),
      (err: unknown) => {
        if (this.closing.get(f.path) === entry) this.closing.delete(f.path);
        failed(err);
      },
    );
  }

  /** Waits until the pending put of `mp` (if any) is done, whatever its outcome. */
  async settled(mp: string): Promise<void> {
    const c = this.closing.get(mp);
    if (!c) return;
    this.hurry();
    await c.done.catch(() => undefined);
  }

  /**
   * Waits for the pending puts of `mp` and of everything below it: a namespace change
   * there (rmdir, rename, unlink) must see them in MFS. Called outside the write lock
   * (the puts need it).
   */
  settledBelow(mp: string): Promise<void> {
    const below = `${mp === '/' ? '' : mp}/`;
    return this.settledWhere((p) => p === mp || p.startsWith(below));
  }

  /** Waits for the pending puts of files directly in folder `mp` (a listing shows them from the node). */
  settledIn(mp: string): Promise<void> {
    return this.settledWhere((p) => posix.dirname(p) === mp);
  }

  /** Waits for every pending put, whatever its outcome (the guest closing). */
  async settledAll(): Promise<void> {
    this.hurry();
    await Promise.allSettled([...this.closing.values()].map((c) => c.done));
  }

  /**
   * Runs the namespace change `fn` in the write lock once no put is pending at the
   * `exact` paths or at or below the `below` ones. A file closed while we waited queued a
   * new put there: then the lock is left and the wait done again (the puts need the lock,
   * so `fn` cannot wait for them inside it).
   */
  async afterPuts<T>(exact: readonly string[], below: readonly string[], fn: () => Promise<T>): Promise<T> {
    for (;;) {
      await Promise.all([...exact.map((p) => this.settled(p)), ...below.map((p) => this.settledBelow(p))]);
      const done = await this.exclusive(async () => {
        if (exact.some((p) => this.pendingAt(p, false)) || below.some((p) => this.pendingAt(p, true))) return undefined;
        return { value: await fn() };
      });
      if (done) return done.value;
    }
  }

  /** Runs a namespace write (or a put) after every earlier one. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  /** Waits for the pending puts whose paths `pick` accepts. */
  private async settledWhere(pick: (mp: string) => boolean): Promise<void> {
    const waits = [...this.closing].filter(([p]) => pick(p)).map(([, c]) => c.done.catch(() => undefined));
    if (waits.length === 0) return;
    this.hurry();
    await Promise.all(waits);
  }

  /** True when a put of `mp` (`below`: or of something below it) is pending. */
  private pendingAt(mp: string, below: boolean): boolean {
    if (!below) return this.closing.has(mp);
    const prefix = `${mp === '/' ? '' : mp}/`;
    for (const p of this.closing.keys()) if (p === mp || p.startsWith(prefix)) return true;
    return false;
  }
}
