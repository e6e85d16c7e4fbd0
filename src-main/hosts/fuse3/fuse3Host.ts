import type { ShutdownLevel } from '../../../src-shared/api.ts';
import { detachIfProcessDies } from '../../sys/runCommand.ts';
import { FsError, toFsError } from '../../vfs/FsError.ts';
import { addServedMount, removeServedMount } from '../../vfs/servedMounts.ts';
import type { Vfs } from '../../vfs/types.ts';
import type { FuseMountOptions } from '../fuse.ts';
import { prepareFuseMount, unmountByLevel } from '../fuseMountPoint.ts';
import { lazyUnmount, unmountFuse } from '../fuseUnmount.ts';
import { isMounted, mountAt } from '../mountInfo.ts';
import type { Host, MountedHost, MountEnd } from '../types.ts';
import { FuseSession } from './FuseSession.ts';
import { loadLibFuse3 } from './libfuse3.ts';
import { makeLowLevelOps } from './lowLevelOps.ts';

// The FUSE host that speaks the kernel's protocol itself (libfuse 3 only mounts), the
// default on Linux: the caller of every request, nanosecond and omitted times, READDIRPLUS,
// 1 MiB writes, and answers sent whenever the vfs settles, from the JavaScript thread
// (FuseSession.ts). mount() resolves once the kernel's INIT reached us and the mount table
// lists the mount; `done` settles however it ends (our unmount, an external
// `fusermount -u`, the kernel aborting the connection).
//
// Like the fuse-native host, this process never makes a node:fs call on a path inside a
// mount it serves (issue 3): probes run in child processes (probeInChild.ts).

/** How long a mount may take to be served (mount, the kernel's INIT, the mount table listing it). */
const SERVE_TIMEOUT_MS = 20_000;
/** Attribute and entry timeout for immutable mounts, seconds. */
const IMMUTABLE_TIMEOUT_S = 3_600;

/** The kernel cache settings of a mount, from its mutability and the user's options. */
interface Caching {
  attrTimeoutS: number;
  entryTimeoutS: number;
  /** Mount options left for libfuse (its session refuses the high-level ones). */
  mountOptions: string[];
}

/** libfuse 2 high-level options that are the host's business here (or mean nothing now). */
const HOST_OPTIONS = /^(attr_timeout|entry_timeout|negative_timeout|ac_attr_timeout)=|^(kernel_cache|auto_cache|noauto_cache|big_writes|use_ino|readdir_ino|hard_remove|direct_io)$/;

/** Splits the options: identity and permissions for the kernel, caching for the host. */
export function fuse3Options(opts: FuseMountOptions, immutable: boolean, writable: boolean): Caching {
  const o = ['fsname=berth', 'subtype=berth'];
  if (opts.allowOther) o.push('allow_other', 'default_permissions');
  if (!writable) o.push('ro');
  // Mutable guests: names and attributes for the guest's cache expiry, at least a second (as
  // bindfs; `du` and `find` otherwise pay one request per entry). What issue 9 forbids, an
  // old size beside new bytes, cannot happen: every open makes the kernel drop the node's
  // attributes (lowLevelOps.ts) and its pages, and with AUTO_INVAL_DATA it asks for the
  // size again before it reads.
  const mutableS = Math.max(1, (opts.attrTimeoutMs ?? 1_000) / 1000);
  let attrTimeoutS = immutable ? IMMUTABLE_TIMEOUT_S : mutableS;
  let entryTimeoutS = immutable ? IMMUTABLE_TIMEOUT_S : mutableS;
  for (const x of opts.options ?? []) {
    if (!/^[A-Za-z0-9_=.-]+$/.test(x)) throw new FsError('InvalidItem', `bad FUSE option ${JSON.stringify(x)}: expected something like noatime or max_read=131072`);
    const m = HOST_OPTIONS.exec(x);
    if (!m) {
      o.push(x);
      continue;
    }
    const [k, v] = x.split('=');
    const n = Number(v);
    if (v !== undefined && !(n >= 0)) throw new FsError('InvalidItem', `bad FUSE option ${x}: expected a number of seconds`);
    if (k === 'attr_timeout') attrTimeoutS = n;
    if (k === 'entry_timeout') entryTimeoutS = n;
  }
  return { attrTimeoutS, entryTimeoutS, mountOptions: o };
}

/** Waits until the kernel lists the mount (its INIT already reached us); its mount id. */
async function waitListed(mountpoint: string, deadlineMs: number): Promise<number> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const entry = await mountAt(mountpoint);
    if (entry) return entry.id;
    if (Date.now() > until) throw new FsError('Timeout', `${mountpoint} was not in /proc/self/mountinfo within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Presents a vfs at a FUSE mount point through libfuse 3. */
export const fuse3Host: Host<FuseMountOptions> = {
  async mount(vfs: Vfs, mountpoint: string, opts: FuseMountOptions): Promise<MountedHost> {
    const lib = loadLibFuse3();
    const { ac, immutable, writable } = await prepareFuseMount(vfs, mountpoint, opts);
    const caching = fuse3Options(opts, immutable, writable);

    let initDone = (): void => {};
    const init = new Promise<void>((r) => {
      initDone = r;
    });
    // Passthrough where the guest opens files on this machine's disks (Vfs.now: a local
    // folder) and they can change: the kernel then reads and writes them itself.
    const passthrough = vfs.now !== undefined && !immutable && (opts.passthrough ?? process.env.BERTH_FUSE_PASSTHROUGH !== '0');
    const s = new FuseSession(lib, mountpoint, caching.mountOptions, passthrough);
    const ops = makeLowLevelOps(vfs, s, {
      signal: ac.signal,
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
      writable,
      immutable,
      attrTimeoutS: caching.attrTimeoutS,
      entryTimeoutS: caching.entryTimeoutS,
      allowOther: opts.allowOther === true,
      alive: () => s.alive,
      invalidateAttrs: (ino) => s.invalidateAttrs(ino),
      onInit: () => initDone(),
      ...(passthrough ? { backing: { open: (fd: number) => s.backingOpen(fd), close: (id: number) => s.backingClose(id) } } : {}),
    });

    let timer: NodeJS.Timeout | undefined;
    let mountId: number;
    // Before the mount exists: guests making blocking calls must keep out of it (servedMounts.ts).
    addServedMount(mountpoint);
    try {
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new FsError('Timeout', `the kernel's FUSE INIT did not come within ${SERVE_TIMEOUT_MS} ms`)), SERVE_TIMEOUT_MS);
      });
      const started = Date.now();
      await Promise.race([s.mount(ops).then(() => init), late, s.ended.then((e) => Promise.reject(e ?? new FsError('IO', 'the kernel ended the session during mount')))]);
      mountId = await waitListed(mountpoint, Math.max(1_000, SERVE_TIMEOUT_MS - (Date.now() - started)));
    } catch (err) {
      if (await isMounted(mountpoint)) await lazyUnmount(mountpoint).catch(() => {});
      ac.abort(new FsError('Closed', `${mountpoint} did not mount`));
      s.close();
      removeServedMount(mountpoint);
      const e = toFsError(err);
      throw new FsError(e.kind, `could not mount ${vfs.name} at ${mountpoint}: ${e.message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }

    // A process that dies with the mount up (a crash, process.exit, SIGKILL) would leave a
    // dead mount point answering ENOTCONN; the command helper detaches it then.
    const forget = detachIfProcessDies(mountpoint, mountId);
    let asked = false;
    // The one death signal: the session ends when the kernel ends it (ENODEV: unmounted by
    // us or from outside, or the connection aborted) or when we stop serving a detached mount.
    const done: Promise<MountEnd> = s.ended.then((err) => {
      forget();
      removeServedMount(mountpoint);
      ac.abort(new FsError('Closed', `${mountpoint} was unmounted`));
      if (err && !asked) return { reason: 'died', message: err.message };
      if (err) console.error(`berth: the FUSE session at ${mountpoint} ended: ${err.message}`);
      return { reason: asked ? 'unmounted' : 'external' };
    });

    const graceMs = opts.shortGraceMs ?? 10_000;
    /** Runs one unmount; once the kernel no longer lists the mount, stops serving it. */
    const take = async (level: ShutdownLevel): Promise<string | undefined> => {
      asked = true;
      let note: string | undefined;
      if (s.alive) {
        try {
          await unmountFuse(mountpoint, level, { graceMs, log: (m) => (note = m) });
        } finally {
          // Detached (cleanly or lazily): stop serving. A lazily detached mount's open files
          // then answer ENOTCONN, as with the fuse-native host.
          if (!(await isMounted(mountpoint))) s.close();
        }
      }
      await done;
      return note;
    };
    return {
      target: mountpoint,
      info: {
        options: caching.mountOptions.join(','),
        cache: immutable ? 'immutable' : 'mutable',
        // The protocol is Berth's own (FuseSession.ts); libfuse only mounted.
        fuse: `kernel protocol 7.${s.minor}, mounted by libfuse ${Math.floor(lib.version / 100)}.${lib.version % 100}`,
        // Whether the kernel reads and writes open files of the folder itself.
        ...(passthrough ? { passthrough: s.passthroughOn ? 'on' : 'off (needs Linux 6.9+ and root)' } : {}),
      },
      done,
      unmount: unmountByLevel(take),
    };
  },
};
