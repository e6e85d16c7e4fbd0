import { listenAbort as listen, unlistenAbort as unlisten } from './abortFanOut.ts';
import { DeadlineQueue, type Timed } from './DeadlineQueue.ts';
import { FsError, toFsError } from './FsError.ts';
import { flatten, gather } from './listing.ts';
import type { Attr, CallOpts, FileHandle, OpenFlags, SetAttr, StatFs, Vfs } from './types.ts';

// Every guest call gets a deadline. The guest sees it as an aborted signal (the caller's
// signal OR the deadline, like AbortSignal.any([signal, AbortSignal.timeout(ms)])), and the
// wrapper rejects with Timeout at the deadline even when the guest ignores its signal, so
// no host request ever waits on a hung guest. The linking is done by hand: AbortSignal.any
// on Node 20 keeps every combined signal alive as long as the caller's (long-lived) signal,
// which leaks under millions of FUSE requests. All deadlines of one wrapped guest share one
// timer (DeadlineQueue): a timer per call cost more than many guest calls themselves.

function aborted(signal: AbortSignal): FsError {
  return toFsError(signal.reason ?? new DOMException('aborted', 'AbortError'));
}

/** One guest call in flight: settles with the guest's result, Timeout, or the caller's abort, whichever is first. */
class TimedCall<T> implements Timed {
  at = 0;
  settled = false;
  readonly ac = new AbortController();
  private resolve!: (v: T) => void;
  private reject!: (e: unknown) => void;
  readonly result: Promise<T>;
  private p: Promise<T> | undefined;

  constructor(
    private readonly outer: AbortSignal,
    /** Passed on to the guest with the linked signal. */
    private readonly caller: CallOpts['caller'],
    private readonly queue: DeadlineQueue,
    private readonly what: () => string,
    private readonly onLate: ((value: T) => void) | undefined,
  ) {
    this.result = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Runs the guest call under this deadline. */
  start(fn: (o: CallOpts) => Promise<T>): Promise<T> {
    listen(this.outer, this);
    this.queue.add(this);
    let p: Promise<T>;
    try {
      p = fn(this.caller ? { signal: this.ac.signal, caller: this.caller } : { signal: this.ac.signal });
    } catch (err) {
      p = Promise.reject(err);
    }
    this.p = p;
    p.then(
      (v) => {
        if (this.done()) this.resolve(v);
        else this.onLate?.(v); // a result that arrives after the deadline (an open file) must not leak
      },
      (err: unknown) => {
        if (this.done()) this.reject(toFsError(err));
      },
    );
    return this.result;
  }

  /** Finishes the race; true when the guest won it. */
  private done(): boolean {
    if (this.ac.signal.aborted) return false;
    this.queue.settle(this);
    unlisten(this.outer, this);
    return true;
  }

  private fail(err: FsError): void {
    if (this.ac.signal.aborted) return;
    this.queue.settle(this);
    unlisten(this.outer, this);
    this.ac.abort(err);
    this.reject(err);
  }

  /** The deadline passed (DeadlineQueue). */
  expire(): void {
    this.fail(new FsError('Timeout', `${this.what()} took longer than ${this.queue.ms} ms`));
  }

  /** The caller's signal aborted (called by the signal's one listener). */
  handleEvent(): void {
    this.fail(aborted(this.outer));
  }
}

/** Wraps a vfs so that no call (nor any file-handle or listing step) outlives `ms` milliseconds. */
export function withTimeouts(vfs: Vfs, ms: number): Vfs {
  if (!Number.isFinite(ms) || ms <= 0) throw new FsError('InvalidItem', `timeout must be a positive number of milliseconds, got ${ms}`);
  const queue = new DeadlineQueue(ms);
  const call = <T>(opts: CallOpts, what: () => string, fn: (o: CallOpts) => Promise<T>, onLate?: (v: T) => void): Promise<T> => {
    if (opts.signal.aborted) return Promise.reject(aborted(opts.signal));
    return new TimedCall<T>(opts.signal, opts.caller, queue, what, onLate).start(fn);
  };
  const closeLate = (h: FileHandle): void => void h.close().catch(() => {});
  const wrapHandle = (h: FileHandle, path: string): FileHandle => {
    const out: FileHandle = {
      read: (pos, len, opts) => call(opts, () => `${vfs.name}: read ${path} @${pos}`, (o) => h.read(pos, len, o)),
      close: () => h.close(),
      // As the guest's synchronous face (wrapped below): a blocking call cannot be bounded.
      ...(h.now ? { now: h.now } : {}),
      ...(h.madeAttr ? { madeAttr: h.madeAttr } : {}),
    };
    if (h.readInto) {
      const ri = h.readInto.bind(h);
      out.readInto = (buf, pos, opts) => call(opts, () => `${vfs.name}: read ${path} @${pos}`, (o) => ri(buf, pos, o));
    }
    if (h.write) {
      const w = h.write.bind(h);
      out.write = (pos, data, opts) => call(opts, () => `${vfs.name}: write ${path} @${pos}`, (o) => w(pos, data, o));
    }
    if (h.truncate) {
      const t = h.truncate.bind(h);
      out.truncate = (size, opts) => call(opts, () => `${vfs.name}: truncate ${path}`, (o) => t(size, o));
    }
    if (h.flush) {
      const f = h.flush.bind(h);
      out.flush = (opts) => call(opts, () => `${vfs.name}: flush ${path}`, (o) => f(o));
    }
    if (h.getattr) {
      const g = h.getattr.bind(h);
      out.getattr = (opts) => call(opts, () => `${vfs.name}: getattr of open ${path}`, (o) => g(o));
    }
    if (h.setattr) {
      const s = h.setattr.bind(h);
      out.setattr = (attr, opts) => call(opts, () => `${vfs.name}: setattr of open ${path}`, (o) => s(attr, o));
    }
    return out;
  };

  const wrapped: Vfs = {
    name: vfs.name,
    readOnly: vfs.readOnly,
    ...(vfs.noXattrs ? { noXattrs: true } : {}),
    ...(vfs.health ? { health: vfs.health } : {}),
    getattr: (path, opts): Promise<Attr> => call(opts, () => `${vfs.name}: getattr ${path}`, (o) => vfs.getattr(path, o)),
    // A guest listing in batches gets a deadline per batch; one listing entry by entry, per entry.
    readdirBatches: (path, opts) =>
      vfs.readdirBatches
        ? stepsWithTimeouts(() => `${vfs.name}: readdir ${path}`, (o) => vfs.readdirBatches!(path, o), opts, queue)
        : gather(stepsWithTimeouts(() => `${vfs.name}: readdir ${path}`, (o) => vfs.readdir(path, o), opts, queue)),
    readdir: (path, opts) =>
      vfs.readdirBatches
        ? flatten(wrapped.readdirBatches!(path, opts))
        : stepsWithTimeouts(() => `${vfs.name}: readdir ${path}`, (o) => vfs.readdir(path, o), opts, queue),
    open: async (path: string, flags: OpenFlags, opts: CallOpts): Promise<FileHandle> =>
      wrapHandle(await call(opts, () => `${vfs.name}: open ${path}`, (o) => vfs.open(path, flags, o), closeLate), path),
    readlink: (path, opts): Promise<string> => call(opts, () => `${vfs.name}: readlink ${path}`, (o) => vfs.readlink(path, o)),
    statfs: (opts): Promise<StatFs> => call(opts, () => `${vfs.name}: statfs`, (o) => vfs.statfs(o)),
    getxattr: (path, name, opts) => call(opts, () => `${vfs.name}: getxattr ${path} ${name}`, (o) => vfs.getxattr(path, name, o)),
    listxattr: (path, opts) => call(opts, () => `${vfs.name}: listxattr ${path}`, (o) => vfs.listxattr(path, o)),
    close: () => vfs.close(),
  };
  if (vfs.now) {
    // Passed on as it is: a blocking call cannot be bounded, and a guest offers one only
    // for calls that cannot hang (system calls on a local disk, localInline.ts). A file it
    // creates is wrapped like any other, so its later async calls get their deadlines.
    const now = vfs.now;
    wrapped.now = {
      ...now,
      create: (path, mode, caller) => {
        const h = now.create(path, mode, caller);
        return h && wrapHandle(h, path);
      },
    };
  }
  if (vfs.create) {
    const f = vfs.create.bind(vfs);
    wrapped.create = async (path, mode, opts) =>
      wrapHandle(await call(opts, () => `${vfs.name}: create ${path}`, (o) => f(path, mode, o), closeLate), path);
  }
  if (vfs.mkdir) {
    const f = vfs.mkdir.bind(vfs);
    wrapped.mkdir = (path, mode, opts) => call(opts, () => `${vfs.name}: mkdir ${path}`, (o) => f(path, mode, o));
  }
  if (vfs.symlink) {
    const f = vfs.symlink.bind(vfs);
    wrapped.symlink = (target, path, opts) => call(opts, () => `${vfs.name}: symlink ${path}`, (o) => f(target, path, o));
  }
  if (vfs.link) {
    const f = vfs.link.bind(vfs);
    wrapped.link = (target, path, opts) => call(opts, () => `${vfs.name}: link ${path}`, (o) => f(target, path, o));
  }
  if (vfs.mknod) {
    const f = vfs.mknod.bind(vfs);
    wrapped.mknod = (path, type, mode, rdev, opts) => call(opts, () => `${vfs.name}: mknod ${path}`, (o) => f(path, type, mode, rdev, o));
  }
  if (vfs.setxattr) {
    const f = vfs.setxattr.bind(vfs);
    wrapped.setxattr = (path, name, value, how, opts) => call(opts, () => `${vfs.name}: setxattr ${path} ${name}`, (o) => f(path, name, value, how, o));
  }
  if (vfs.removexattr) {
    const f = vfs.removexattr.bind(vfs);
    wrapped.removexattr = (path, name, opts) => call(opts, () => `${vfs.name}: removexattr ${path} ${name}`, (o) => f(path, name, o));
  }
  if (vfs.unlink) {
    const f = vfs.unlink.bind(vfs);
    wrapped.unlink = (path, opts) => call(opts, () => `${vfs.name}: unlink ${path}`, (o) => f(path, o));
  }
  if (vfs.rmdir) {
    const f = vfs.rmdir.bind(vfs);
    wrapped.rmdir = (path, opts) => call(opts, () => `${vfs.name}: rmdir ${path}`, (o) => f(path, o));
  }
  if (vfs.rename) {
    const f = vfs.rename.bind(vfs);
    wrapped.rename = (from, to, opts) => call(opts, () => `${vfs.name}: rename ${from}`, (o) => f(from, to, o));
  }
  if (vfs.rename2) {
    const f = vfs.rename2.bind(vfs);
    wrapped.rename2 = (from, to, how, opts) => call(opts, () => `${vfs.name}: rename (${how}) ${from}`, (o) => f(from, to, how, o));
  }
  if (vfs.setattr) {
    const f = vfs.setattr.bind(vfs);
    wrapped.setattr = (path, attr: SetAttr, opts) => call(opts, () => `${vfs.name}: setattr ${path}`, (o) => f(path, attr, o));
  }
  return wrapped;
}

/** One step of a listing (the next entry) under the listing's deadline queue. */
class Step implements Timed {
  at = 0;
  settled = false;
  constructor(private readonly onExpire: () => void) {}
  /** The step's deadline passed. */
  expire(): void {
    this.onExpire();
  }
}

/**
 * A listing where each step (the next batch of entries, or the next entry of a guest that
 * lists one at a time) gets its own deadline, so a large folder may take as long as it
 * needs while a stalled one fails. The guest's iterator gets one signal that aborts when a
 * step times out or the caller gives up.
 */
async function* stepsWithTimeouts<T>(what: () => string, open: (o: CallOpts) => AsyncIterable<T>, opts: CallOpts, queue: DeadlineQueue): AsyncGenerator<T> {
  if (opts.signal.aborted) throw aborted(opts.signal);
  const ac = new AbortController();
  // Rejects the step in progress when the caller aborts or a step's deadline passes.
  let failStep: ((err: FsError) => void) | undefined;
  const stop = (err: FsError): void => {
    if (!ac.signal.aborted) ac.abort(err);
    failStep?.(err);
  };
  const onOuter = { handleEvent: (): void => stop(aborted(opts.signal)) };
  listen(opts.signal, onOuter);
  const expire = (): void => stop(new FsError('Timeout', `${what()} took longer than ${queue.ms} ms`));
  let it: AsyncIterator<T> | undefined;
  try {
    for (;;) {
      if (ac.signal.aborted) throw toFsError(ac.signal.reason);
      // A fresh entry per step: the queue may still hold the previous one.
      const step = new Step(expire);
      queue.add(step);
      let r: IteratorResult<T>;
      try {
        it ??= open(opts.caller ? { signal: ac.signal, caller: opts.caller } : { signal: ac.signal })[Symbol.asyncIterator]();
        const next = it.next();
        r = await new Promise<IteratorResult<T>>((resolve, reject) => {
          failStep = reject;
          next.then(resolve, (err: unknown) => reject(toFsError(err)));
        });
      } catch (err) {
        throw toFsError(err);
      } finally {
        failStep = undefined;
        queue.settle(step);
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    unlisten(opts.signal, onOuter);
    if (!ac.signal.aborted) ac.abort(new FsError('Closed', 'listing finished'));
    // A guest stuck in next() may never answer return(); do not wait for it.
    void it?.return?.()?.catch?.(() => {});
  }
}
