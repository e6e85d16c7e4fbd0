import { FsError, toFsError } from './FsError.ts';
import type { Attr, CallOpts, DirEntry, FileHandle, OpenFlags, SetAttr, StatFs, Vfs } from './types.ts';

// Every guest call gets a deadline. The guest sees it as an aborted signal (the caller's
// signal OR the deadline, like AbortSignal.any([signal, AbortSignal.timeout(ms)])), and the
// wrapper rejects with Timeout at the deadline even when the guest ignores its signal, so
// no host request ever waits on a hung guest. The linking is done by hand with one timer
// per call: AbortSignal.any on Node 20 keeps every combined signal alive as long as the
// caller's (long-lived) signal, which leaks under millions of FUSE requests.

/** A call in flight: the signal handed to the guest and a way to finish it. */
interface Deadline {
  signal: AbortSignal;
  /** Settles with the guest's result, or rejects with Timeout / the caller's abort, whichever is first. */
  race<T>(p: Promise<T>, onLate?: (value: T) => void): Promise<T>;
}

function deadline(outer: AbortSignal, ms: number, what: () => string): Deadline {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onOuter: (() => void) | undefined;
  let fail: ((err: FsError) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Nobody may be listening yet when the deadline passes; the rejection is observed in race().
  failed.catch(() => {});
  const stop = (err: FsError): void => {
    if (!ac.signal.aborted) ac.abort(err);
    fail?.(err);
  };
  if (outer.aborted) {
    stop(toFsError(outer.reason ?? new DOMException('aborted', 'AbortError')));
  } else {
    onOuter = () => stop(toFsError(outer.reason ?? new DOMException('aborted', 'AbortError')));
    outer.addEventListener('abort', onOuter, { once: true });
    timer = setTimeout(() => stop(new FsError('Timeout', `${what()} took longer than ${ms} ms`)), ms);
  }
  const cleanup = (): void => {
    if (timer) clearTimeout(timer);
    if (onOuter) outer.removeEventListener('abort', onOuter);
  };
  return {
    signal: ac.signal,
    async race<T>(p: Promise<T>, onLate?: (value: T) => void): Promise<T> {
      let won = false;
      try {
        const v = await Promise.race([p, failed]);
        won = true;
        return v;
      } catch (err) {
        throw toFsError(err);
      } finally {
        cleanup();
        // A result that arrives after the deadline (an open file) must not leak.
        if (!won) p.then((v) => onLate?.(v), () => {});
      }
    },
  };
}

/** Wraps a vfs so that no call (nor any file-handle or listing step) outlives `ms` milliseconds. */
export function withTimeouts(vfs: Vfs, ms: number): Vfs {
  if (!Number.isFinite(ms) || ms <= 0) throw new FsError('InvalidItem', `timeout must be a positive number of milliseconds, got ${ms}`);
  const call = <T>(opts: CallOpts, what: () => string, fn: (o: CallOpts) => Promise<T>, onLate?: (v: T) => void): Promise<T> => {
    const d = deadline(opts.signal, ms, what);
    let p: Promise<T>;
    try {
      p = fn({ signal: d.signal });
    } catch (err) {
      p = Promise.reject(err);
    }
    return d.race(p, onLate);
  };
  const closeLate = (h: FileHandle): void => void h.close().catch(() => {});
  const wrapHandle = (h: FileHandle, path: string): FileHandle => {
    const out: FileHandle = {
      read: (pos, len, opts) => call(opts, () => `${vfs.name}: read ${path} @${pos}`, (o) => h.read(pos, len, o)),
      close: () => h.close(),
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
    return out;
  };

  const wrapped: Vfs = {
    name: vfs.name,
    readOnly: vfs.readOnly,
    getattr: (path, opts): Promise<Attr> => call(opts, () => `${vfs.name}: getattr ${path}`, (o) => vfs.getattr(path, o)),
    readdir: (path, opts) => readdirWithTimeouts(vfs, path, opts, ms),
    open: async (path: string, flags: OpenFlags, opts: CallOpts): Promise<FileHandle> =>
      wrapHandle(await call(opts, () => `${vfs.name}: open ${path}`, (o) => vfs.open(path, flags, o), closeLate), path),
    readlink: (path, opts): Promise<string> => call(opts, () => `${vfs.name}: readlink ${path}`, (o) => vfs.readlink(path, o)),
    statfs: (opts): Promise<StatFs> => call(opts, () => `${vfs.name}: statfs`, (o) => vfs.statfs(o)),
    getxattr: (path, name, opts) => call(opts, () => `${vfs.name}: getxattr ${path} ${name}`, (o) => vfs.getxattr(path, name, o)),
    listxattr: (path, opts) => call(opts, () => `${vfs.name}: listxattr ${path}`, (o) => vfs.listxattr(path, o)),
    close: () => vfs.close(),
  };
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
  if (vfs.setattr) {
    const f = vfs.setattr.bind(vfs);
    wrapped.setattr = (path, attr: SetAttr, opts) => call(opts, () => `${vfs.name}: setattr ${path}`, (o) => f(path, attr, o));
  }
  return wrapped;
}

/**
 * A listing where each step (the next batch of entries) gets its own deadline, so a large
 * folder may take as long as it needs while a stalled one fails. The guest's iterator gets
 * one signal that aborts when a step times out or the caller gives up.
 */
async function* readdirWithTimeouts(vfs: Vfs, path: string, opts: CallOpts, ms: number): AsyncGenerator<DirEntry> {
  const ac = new AbortController();
  const onOuter = (): void => ac.abort(opts.signal.reason);
  if (opts.signal.aborted) throw toFsError(opts.signal.reason);
  opts.signal.addEventListener('abort', onOuter, { once: true });
  let it: AsyncIterator<DirEntry> | undefined;
  try {
    for (;;) {
      const d = deadline(opts.signal, ms, () => `${vfs.name}: readdir ${path}`);
      const stepAbort = (): void => ac.abort(d.signal.reason);
      d.signal.addEventListener('abort', stepAbort, { once: true });
      let r: IteratorResult<DirEntry>;
      try {
        r = await d.race(
          (async () => {
            it ??= vfs.readdir(path, { signal: ac.signal })[Symbol.asyncIterator]();
            return it.next();
          })(),
        );
      } finally {
        d.signal.removeEventListener('abort', stepAbort);
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    opts.signal.removeEventListener('abort', onOuter);
    if (!ac.signal.aborted) ac.abort(new FsError('Closed', 'listing finished'));
    // A guest stuck in next() may never answer return(); do not wait for it.
    void it?.return?.()?.catch?.(() => {});
  }
}
