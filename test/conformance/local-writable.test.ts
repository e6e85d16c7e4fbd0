import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { NfsGuest } from '../../src-main/guests/nfs.ts';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { hasLibFuse3 } from '../../src-main/hosts/fuse3/libfuse3.ts';
import { nfsHost } from '../../src-main/hosts/nfs.ts';
import { wrapGuest } from '../../src-main/vfs/wrapGuest.ts';
import { fuseMounts, missingFuse, missingPeer } from '../helpers/peers.ts';
import { cliMount } from './cliMount.ts';
import { writableConformance } from './writable.ts';
import { processWriter, vfsWriter } from './writableAdapters.ts';

// Issue 9: the local guest changed directly, through FUSE, and through our NFS host (by
// our NFS client sending AUTH_SYS uid 65534; libnfs' own tools are in
// test/integration/issue-9-nfs-auth.test.ts), each on a backing folder that holds a
// root-owned file, a sticky folder and a 1 MiB tmpfs (ENOSPC, EXDEV).

const NOBODY = { uid: 65534, gid: 65534 };
const base = mkdtempSync(join(tmpdir(), 'berth-wconf-'));
chmodSync(base, 0o755);
const tmpfs: string[] = [];
afterAll(() => {
  for (const m of tmpfs) execFileSync('umount', ['-l', m]);
  rmSync(base, { recursive: true, force: true });
});

/**
 * What the FUSE host of this machine carries: libfuse 3 (the default on Linux) passes exact
 * and omitted times (the suite's explicit pairs go through Node's lutimes: ~1 µs); the
 * fuse-native fallback whole milliseconds and no single-time utimensat.
 */
const FUSE_TIMES = hasLibFuse3() ? { timePrecisionNs: 2_000, singleTimes: true } : { timePrecisionNs: 1_000_000, singleTimes: false };

const needRoot = missingPeer('root', () => process.getuid?.() === 0, 'the writable suite mounts a tmpfs and acts as other users');

/** The backing folder every way in starts from (see WritableFactory). */
function backing(name: string): string {
  const f = join(base, name);
  mkdirSync(f, { mode: 0o755 });
  writeFileSync(join(f, 'rootfile'), 'root\n', { mode: 0o644 });
  mkdirSync(join(f, 'sticky'));
  chmodSync(join(f, 'sticky'), 0o1777);
  writeFileSync(join(f, 'sticky', 'rootfile'), 'root\n');
  chmodSync(join(f, 'sticky', 'rootfile'), 0o666);
  mkdirSync(join(f, 'area'));
  chmodSync(join(f, 'area'), 0o777);
  mkdirSync(join(f, 'small'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=1777', 'tmpfs', join(f, 'small')]);
  tmpfs.push(join(f, 'small'));
  return f;
}

writableConformance(
  'local guest, direct, as uid 65534',
  async (folder) => {
    const vfs = wrapGuest(await openLocalGuest({ kind: 'local', path: folder, readOnly: false, xattrs: true }));
    return {
      w: vfsWriter(vfs, NOBODY),
      caps: { who: NOBODY, ownsAsCaller: true, enforces: false, timePrecisionNs: 2_000, singleTimes: true },
      close: () => vfs.close(),
    };
  },
  { folder: () => backing('direct'), skip: needRoot },
);

// The same, through /proc paths alone: what the /proc strategy does where koffi or libc
// does not load (localLibc.ts).
writableConformance(
  'local guest, direct, as uid 65534, without libc',
  async (folder) => {
    const vfs = wrapGuest(await openLocalGuest({ kind: 'local', path: folder, readOnly: false, xattrs: true }, { paths: 'proc', libc: false }));
    return {
      w: vfsWriter(vfs, NOBODY),
      // coreutils' mknod, the fallback for fifos and devices, makes no sockets; extended attributes need libc's calls.
      caps: { who: NOBODY, ownsAsCaller: true, enforces: false, timePrecisionNs: 2_000, singleTimes: true, features: { sockets: false, xattrs: false } },
      close: () => vfs.close(),
    };
  },
  { folder: () => backing('direct-paths'), skip: needRoot },
);

writableConformance(
  'local guest through FUSE, as root',
  async (folder) => {
    const mnt = join(base, 'fuse-root-mnt');
    mkdirSync(mnt);
    const m = await cliMount(['fuse', 'local', '--path', folder, '--rw', '--xattrs', '--timeout', '20s', mnt]);
    return {
      w: processWriter(mnt, 'root'),
      caps: { who: { uid: 0, gid: 0 }, ownsAsCaller: true, enforces: true, ...FUSE_TIMES },
      close: async () => {
        expect(await m.stop()).toBe(0);
        expect(fuseMounts()).not.toContain(mnt);
      },
    };
  },
  { folder: () => backing('fuse-root'), skip: needRoot ?? missingFuse() },
);

// As another user through --allow-other: nodes belong to whoever made them (the caller of
// each FUSE request, fuse_req_ctx), who may then append to and chmod them. The fuse-native
// fallback cannot know the caller: there this run is skipped with the reason.
writableConformance(
  'local guest through FUSE --allow-other, as uid 65534',
  async (folder) => {
    const mnt = join(base, 'fuse-nobody-mnt');
    mkdirSync(mnt);
    const m = await cliMount(['fuse', 'local', '--path', folder, '--rw', '--allow-other', '--xattrs', '--timeout', '20s', mnt]);
    return {
      w: processWriter(mnt, 'nobody'),
      caps: { who: NOBODY, ownsAsCaller: true, enforces: true, ...FUSE_TIMES },
      close: async () => {
        expect(await m.stop()).toBe(0);
        expect(fuseMounts()).not.toContain(mnt);
      },
    };
  },
  { folder: () => backing('fuse-nobody'), skip: needRoot ?? missingFuse() ?? (hasLibFuse3() ? undefined : 'the fuse-native fallback cannot pass the caller (no fuse_get_context): see README "Writable mounts"') },
);

writableConformance(
  'local guest through our NFS host, by our NFS client as uid 65534 (AUTH_SYS)',
  async (folder) => {
    const local = await openLocalGuest({ kind: 'local', path: folder, readOnly: false });
    const host = await nfsHost.mount(wrapGuest(local), '/ip4/127.0.0.1/tcp/0', { readOnly: false, onError: () => {} });
    const nfs = await NfsGuest.open({ kind: 'nfs', server: host.target, export: '/', ...NOBODY });
    return {
      w: vfsWriter(nfs),
      // NFSv3 has no extended attributes.
      caps: { who: NOBODY, ownsAsCaller: true, enforces: true, timePrecisionNs: 2_000, singleTimes: true, features: { xattrs: false } },
      close: async () => {
        await nfs.close();
        await host.unmount();
        await local.close();
      },
    };
  },
  { folder: () => backing('nfs'), skip: needRoot },
);
