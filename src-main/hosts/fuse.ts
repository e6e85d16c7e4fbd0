import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { FsError, toFsError } from '../vfs/FsError.ts';
import { addServedMount, removeServedMount } from '../vfs/servedMounts.ts';
import type { Vfs } from '../vfs/types.ts';
import type { ShutdownLevel } from '../../src-shared/api.ts';
import { prepareFuseMount, unmountByLevel } from './fuseMountPoint.ts';
import { lazyUnmount, unmountFuse } from './fuseUnmount.ts';
import { isMounted, mountAt } from './mountInfo.ts';
import { installFastPath, type FastBinding } from './fuseFastPath.ts';
import { fastAnswers, type FastAnswers, makeFuseOps } from './fuseOps.ts';
import { watchUnmount } from './mountInfoWatch.ts';
import { detachIfProcessDies } from '../sys/runCommand.ts';
import type { Host, MountedHost, MountEnd } from './types.ts';

// The fallback FUSE host, on fuse-native 2.2.6 (libfuse 2), where libfuse 3 does not load
// (macOS, old distributions; fuse3/ is the host elsewhere). mount() resolves only once the
// kernel serves the mount point; `done` settles however the mount ends (our unmount, an external
// `fusermount -u`, the guest failing to start).
//
// This process serves the mount, so it never makes a node:fs call on a path inside it (or
// inside any mount it serves): such a call waits on a threadpool thread for an answer that
// needs a threadpool thread (issue 3). A mount is known served by the kernel's INIT
// reaching us, mount points below FUSE mounts are probed by child processes
// (probeInChild.ts), and mounts are watched through /proc/self/mountinfo (mountInfoWatch.ts).

/** How a vfs is presented through FUSE. */
export interface FuseMountOptions {
  /** Refuse every change in the kernel (-o ro) even when the vfs could write. */
  readOnly?: boolean;
  /** Let other users see the mount (needs user_allow_other in /etc/fuse.conf unless root). */
  allowOther?: boolean;
  /** Owner shown for every node instead of the guest's. */
  uid?: number;
  gid?: number;
  /** Extra -o options, e.g. "noatime". */
  options?: string[];
  /** Kernel attribute/entry cache of mutable guests in ms (default 1000). */
  attrTimeoutMs?: number;
  /**
   * Whether every byte under the mount is immutable; by default the guest's root Attr says
   * so (Attr.immutable). Immutable mounts get kernel_cache and hour-long attribute caching.
   */
  immutable?: boolean;
  /** How long a `short` unmount waits for busy files before it detaches lazily (ms, default 10 s). */
  shortGraceMs?: number;
  /**
   * Let the kernel read and write files of a local folder itself (FUSE passthrough, Linux
   * 6.9+, as root); default on, unless BERTH_FUSE_PASSTHROUGH=0. The libfuse 3 host only.
   */
  passthrough?: boolean;
}

/** How long a mount may take to be served (fuse_mount, the kernel's INIT, the mount table listing it). */
const SERVE_TIMEOUT_MS = 20_000;
/** Attribute and entry timeout for immutable mounts, seconds. */
const IMMUTABLE_TIMEOUT_S = 3_600;

/** The part of fuse-native's class Berth uses. */
interface FuseInstance {
  mnt: string;
  _thread: Buffer | null;
  _openCallback: ((err: Error | null) => void) | null;
  _malloc: unknown;
  _handlers: unknown[];
  _getImplementedArray(): unknown;
  _fuseOptions(): string;
  _open(cb: (err: Error | null) => void): void;
  mount(cb: (err: Error | null) => void): void;
}
type FuseClass = new (mnt: string, ops: Record<string, unknown>, opts: Record<string, unknown>) => FuseInstance;

/** The part of fuse-native's addon Berth calls directly. */
interface FuseBinding extends FastBinding {
  sizeof_fuse_thread_t: number;
  op_utimens: number;
  fuse_native_mount(mnt: string, opts: string, thread: Buffer, ctx: unknown, malloc: unknown, handlers: unknown, implemented: unknown): void;
  fuse_native_unmount(mnt: string, thread: Buffer): void;
}

let loaded: { Fuse: FuseClass; binding: FuseBinding } | undefined;

/** Loads fuse-native on first use, so hosts/ can be imported where libfuse is missing. */
function loadFuse(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  try {
    const Fuse = require('fuse-native') as FuseClass;
    // The same addon instance fuse-native loaded (node-gyp-build caches it by path): its
    // unmount call releases the event-loop handle that would otherwise keep Node alive.
    const binding = require('node-gyp-build')(dirname(require.resolve('fuse-native/package.json'))) as NonNullable<typeof loaded>['binding'];
    loaded = { Fuse, binding };
    return loaded;
  } catch (err) {
    throw new FsError('InvalidOperation', `FUSE is not available: ${(err as Error).message} (install libfuse2: apt-get install libfuse2 fuse3)`, { cause: err });
  }
}

/**
 * fuse-native builds `-o` only from a fixed list of its own option names, which lacks
 * negative_timeout, ro, big_writes and any option the user passes through; so Berth
 * computes the whole option string itself.
 */
function withOptions(Fuse: FuseClass, binding: FuseBinding, options: string[], fast: FastAnswers): FuseClass {
  return class BerthFuse extends Fuse {
    constructor(mnt: string, ops: Record<string, unknown>, opts: Record<string, unknown>) {
      super(mnt, ops, opts);
      const original = this._handlers[binding.op_utimens];
      if (typeof original === 'function') this._handlers[binding.op_utimens] = withRealMtime(original as UtimensHandler);
      installFastPath(this._handlers, binding, fast);
    }

    override _fuseOptions(): string {
      return options.length ? `-o${options.join(',')}` : '';
    }

    /**
     * fuse-native's own open stats the mount point and its parent through node:fs before
     * mounting; checkMountPoint already looked (from a child process, see the top of this
     * file), so this mounts straight away. The callback fires from the kernel's INIT.
     */
    override _open(cb: (err: Error | null) => void): void {
      this._thread = Buffer.alloc(binding.sizeof_fuse_thread_t);
      this._openCallback = cb;
      try {
        binding.fuse_native_mount(this.mnt, this._fuseOptions(), this._thread, this, this._malloc, this._handlers, this._getImplementedArray());
      } catch (err) {
        this._openCallback = null;
        cb(err as Error);
      }
    }
  };
}

/** fuse-native's registered utimens handler: the thread's locals buffer, the opcode, then its arguments. */
type UtimensHandler = (locals: Buffer, op: number, path: string, aLow: number, aHigh: number, mLow: number, mHigh: number) => unknown;

/**
 * Where `size_t atime; size_t mtime;` sit in fuse-native's fuse_thread_locals_t: 104 on
 * Linux LP64 (dev_t 8 bytes, mode_t 4), 96 on macOS (dev_t 4, mode_t 2).
 */
const ATIME_OFFSETS = [104, 96];

/**
 * fuse-native 2.2.6's C code stores both times of a utimens call in the calling thread's
 * locals but hands JavaScript the access time twice (issue 9: `cp -p`, `tar x`, `touch -m`
 * lost or corrupted mtime). The handler is given that locals buffer as its first argument,
 * so the real mtime is read from it, right after the atime: the offset is the one whose
 * 8 bytes equal the atime we were given, so a layout we do not know changes nothing.
 */
function withRealMtime(original: UtimensHandler): UtimensHandler {
  return (locals, op, path, aLow, aHigh, mLow, mHigh) => {
    for (const off of ATIME_OFFSETS) {
      if (locals.length >= off + 16 && locals.readUInt32LE(off) === aLow && locals.readUInt32LE(off + 4) === aHigh) {
        return original(locals, op, path, aLow, aHigh, locals.readUInt32LE(off + 8), locals.readUInt32LE(off + 12));
      }
    }
    return original(locals, op, path, aLow, aHigh, mLow, mHigh);
  };
}

/** The -o options for a mount: identity, permissions, then caching by mutability. */
function fuseOptions(opts: FuseMountOptions, immutable: boolean, writable: boolean): string[] {
  const o = ['fsname=berth', 'subtype=berth'];
  if (opts.allowOther) o.push('allow_other', 'default_permissions');
  if (!writable) o.push('ro');
  else o.push('big_writes');
  if (immutable) {
    // Content under a CID never changes: let the kernel keep pages and attributes.
    o.push('kernel_cache', `attr_timeout=${IMMUTABLE_TIMEOUT_S}`, `entry_timeout=${IMMUTABLE_TIMEOUT_S}`);
  } else {
    const s = (opts.attrTimeoutMs ?? 1_000) / 1000;
    // Names may be cached a moment, attributes not: a size cached by the kernel beside
    // bytes read fresh gave old sizes with new data (issue 9). With attr_timeout=0 the
    // kernel asks before it trusts a size (a read past it, a stat); auto_cache drops cached
    // pages when a file's mtime or size changed since it was last opened.
    o.push('auto_cache', 'attr_timeout=0', `entry_timeout=${s}`, 'negative_timeout=0');
  }
  o.push(...(opts.options ?? []));
  for (const x of o) {
    if (!/^[A-Za-z0-9_=.-]+$/.test(x)) throw new FsError('InvalidItem', `bad FUSE option ${JSON.stringify(x)}: expected something like noatime or max_read=131072`);
  }
  return o;
}

/**
 * Waits until the kernel lists the mount; resolves with its kernel mount id. Called once
 * fuse-native's mount callback fired, which it does from the kernel's FUSE INIT: the
 * kernel already talks to this process, so no stat of the mount point is needed (and one
 * through node:fs could deadlock, issue 3).
 */
async function waitListed(mountpoint: string, deadlineMs: number): Promise<number> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const entry = await mountAt(mountpoint);
    if (entry) return entry.id;
    if (Date.now() > until) throw new FsError('Timeout', `${mountpoint} was not in /proc/self/mountinfo within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Rejects with a Timeout when `p` takes longer than `ms` (the promise itself runs on). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FsError('Timeout', `${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Presents a vfs at a FUSE mount point. */
export const fuseHost: Host<FuseMountOptions> = {
  async mount(vfs: Vfs, mountpoint: string, opts: FuseMountOptions): Promise<MountedHost> {
    const { Fuse, binding } = loadFuse();
    const { ac, immutable, writable } = await prepareFuseMount(vfs, mountpoint, opts);
    const ops = makeFuseOps(vfs, { signal: ac.signal, uid: opts.uid, gid: opts.gid }, writable);
    const Berth = withOptions(Fuse, binding, fuseOptions(opts, immutable, writable), fastAnswers(vfs, { signal: ac.signal, uid: opts.uid, gid: opts.gid }));
    // timeout:false: fuse-native's own per-request timer is redundant, every vfs call
    // already has a deadline (vfs/withTimeouts.ts) and answers ETIMEDOUT itself.
    const fuse = new Berth(mountpoint, ops, { timeout: false });

    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      ac.abort(new FsError('Closed', `${mountpoint} was unmounted`));
      if (fuse._thread) {
        try {
          binding.fuse_native_unmount(mountpoint, fuse._thread);
        } catch {
          // Already released by fuse-native itself.
        }
      }
    };

    let mountId: number;
    // Before the mount exists: guests making blocking calls must keep out of it (servedMounts.ts).
    addServedMount(mountpoint);
    try {
      const started = Date.now();
      await within(new Promise<void>((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve()))), SERVE_TIMEOUT_MS, 'the kernel\'s FUSE INIT');
      mountId = await waitListed(mountpoint, Math.max(1_000, SERVE_TIMEOUT_MS - (Date.now() - started)));
    } catch (err) {
      // fuse_new can fail after fuse_mount succeeded (a bad -o option): never leave that behind.
      if (await isMounted(mountpoint)) await lazyUnmount(mountpoint).catch(() => {});
      release();
      removeServedMount(mountpoint);
      const e = toFsError(err);
      throw new FsError(e.kind, `could not mount ${vfs.name} at ${mountpoint}: ${e.message}`, { cause: err });
    }

    let settle = (_end: MountEnd): void => {};
    const done = new Promise<MountEnd>((r) => {
      settle = r;
    });
    let ended = false;
    let asked = false;
    // A process that dies with the mount up (a crash, process.exit, SIGKILL) would leave a
    // dead mount point answering ENOTCONN; the command helper detaches it then.
    const forget = detachIfProcessDies(mountpoint, mountId);
    /** The mount is gone from the kernel's table: release the session, once. */
    const end = (): void => {
      if (ended) return;
      ended = true;
      forget();
      removeServedMount(mountpoint);
      unwatch();
      release();
      settle({ reason: asked ? 'unmounted' : 'external' });
    };
    // The one watcher of this mount: whoever takes it away (us, `fusermount -u`, the
    // kernel), the next read of /proc/self/mountinfo without it ends it.
    const unwatch = watchUnmount(mountpoint, end);

    const graceMs = opts.shortGraceMs ?? 10_000;
    /** Runs one unmount and ends the mount as soon as the kernel no longer lists it. */
    const take = async (level: ShutdownLevel): Promise<string | undefined> => {
      asked = true;
      let note: string | undefined;
      if (!ended) {
        await unmountFuse(mountpoint, level, { graceMs, log: (m) => (note = m) });
        if (!(await isMounted(mountpoint))) end();
      }
      await done;
      return note;
    };
    return {
      target: mountpoint,
      info: { options: fuseOptions(opts, immutable, writable).join(','), cache: immutable ? 'immutable' : 'mutable' },
      done,
      unmount: unmountByLevel(take),
    };
  },
};
