import { execFileSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import * as fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { FsError, toFsError } from '../vfs/FsError.ts';
import type { Vfs } from '../vfs/types.ts';
import { checkMountPoint, fuseUnmount, isMounted } from './fuseMountPoint.ts';
import { makeFuseOps } from './fuseOps.ts';
import type { Host, MountedHost } from './types.ts';

// The FUSE host on fuse-native 2.2.6 (libfuse 2). mount() resolves only once the kernel
// serves the mount point; `done` settles however the mount ends (our unmount, an external
// `fusermount -u`, the guest failing to start).

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
  /** How long unmount waits for a clean `fusermount -u` before a lazy one (ms, default 5000). */
  unmountTimeoutMs?: number;
}

/** Mount points this process serves (owned by fuseHost), detached at exit if still there. */
const live = new Set<string>();
let exitHook = false;

/**
 * A process that exits with mounts up (a crash, process.exit) would leave dead mount points
 * that answer ENOTCONN until someone runs fusermount; a lazy unmount at exit avoids that.
 * Sync is right here: the event loop is gone, and -z does not wait for this process.
 */
function detachAtExit(mountpoint: string): void {
  live.add(mountpoint);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const m of live) {
      try {
        execFileSync('fusermount', ['-uz', m], { stdio: 'ignore', timeout: 5_000 });
      } catch {
        // Already gone.
      }
    }
  });
}

/** How often an unattended mount checks that it is still mounted. */
const WATCH_MS = 1_000;
/** Attribute and entry timeout for immutable mounts, seconds. */
const IMMUTABLE_TIMEOUT_S = 3_600;

/** The part of fuse-native's class Berth uses. */
interface FuseInstance {
  mnt: string;
  _thread: Buffer | null;
  _fuseOptions(): string;
  mount(cb: (err: Error | null) => void): void;
}
type FuseClass = new (mnt: string, ops: Record<string, unknown>, opts: Record<string, unknown>) => FuseInstance;

let loaded: { Fuse: FuseClass; binding: { fuse_native_unmount(mnt: string, thread: Buffer): void } } | undefined;

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
function withOptions(Fuse: FuseClass, options: string[]): FuseClass {
  return class BerthFuse extends Fuse {
    override _fuseOptions(): string {
      return options.length ? `-o${options.join(',')}` : '';
    }
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
    // auto_cache drops cached pages when a file's mtime or size changed since it was opened.
    o.push('auto_cache', `attr_timeout=${s}`, `entry_timeout=${s}`, 'negative_timeout=0');
  }
  o.push(...(opts.options ?? []));
  for (const x of o) {
    if (!/^[A-Za-z0-9_=.-]+$/.test(x)) throw new FsError('InvalidItem', `bad FUSE option ${JSON.stringify(x)}: expected something like noatime or max_read=131072`);
  }
  return o;
}

/** Waits until the kernel lists the mount and a stat of it reaches the vfs. */
async function waitServed(mountpoint: string, devBefore: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (await isMounted(mountpoint)) {
      const st = await fsp.stat(mountpoint).catch(() => undefined);
      // A stat that answers means the kernel forwards requests to this process.
      if (st && st.isDirectory() && st.dev !== devBefore) return;
    }
    if (Date.now() > until) throw new FsError('Timeout', `${mountpoint} was not served within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Presents a vfs at a FUSE mount point. */
export const fuseHost: Host<FuseMountOptions> = {
  async mount(vfs: Vfs, mountpoint: string, opts: FuseMountOptions): Promise<MountedHost> {
    const { Fuse, binding } = loadFuse();
    await checkMountPoint(mountpoint);
    const before = await fsp.stat(mountpoint);
    // The root answers first: a guest that cannot start fails here, before the kernel waits on it.
    const ac = new AbortController();
    // Every request in flight listens on this one signal (vfs/withTimeouts.ts links to it).
    setMaxListeners(0, ac.signal);
    const rootAttr = await vfs.getattr('/', { signal: AbortSignal.timeout(60_000) }).catch((err: unknown) => {
      throw toFsError(err);
    });
    if (rootAttr.type !== 'dir') throw new FsError('NotDir', `${vfs.name}: the root is a ${rootAttr.type}, not a folder`);
    const immutable = opts.immutable ?? rootAttr.immutable === true;
    const writable = !vfs.readOnly && !opts.readOnly;
    const ops = makeFuseOps(vfs, { signal: ac.signal, uid: opts.uid, gid: opts.gid }, writable);
    const Berth = withOptions(Fuse, fuseOptions(opts, immutable, writable));
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

    try {
      await new Promise<void>((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve())));
      await waitServed(mountpoint, before.dev, 10_000);
    } catch (err) {
      // fuse_new can fail after fuse_mount succeeded (a bad -o option): never leave that behind.
      await fuseUnmount(mountpoint).catch(() => {});
      release();
      const e = toFsError(err);
      throw new FsError(e.kind, `could not mount ${vfs.name} at ${mountpoint}: ${e.message}`, { cause: err });
    }

    let settle = (): void => {};
    const done = new Promise<void>((r) => {
      settle = r;
    });
    let ended = false;
    detachAtExit(mountpoint);
    const end = (): void => {
      if (ended) return;
      ended = true;
      live.delete(mountpoint);
      clearInterval(watch);
      release();
      settle();
    };
    // Notices an external `fusermount -u` (or the kernel dropping us) and settles `done`.
    const watch = setInterval(() => {
      void isMounted(mountpoint).then((m) => {
        if (!m) end();
      });
    }, WATCH_MS);
    watch.unref();

    let unmounting: Promise<void> | undefined;
    return {
      target: mountpoint,
      info: { options: fuseOptions(opts, immutable, writable).join(','), cache: immutable ? 'immutable' : 'mutable' },
      done,
      unmount(): Promise<void> {
        unmounting ??= (async () => {
          try {
            await fuseUnmount(mountpoint, opts.unmountTimeoutMs ?? 5_000);
          } finally {
            if (!(await isMounted(mountpoint))) end();
          }
        })();
        return unmounting;
      },
    };
  },
};
