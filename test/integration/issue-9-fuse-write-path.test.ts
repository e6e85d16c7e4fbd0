import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { type FuseMountOptions, fuseHost } from '../../src-main/hosts/fuse.ts';
import { fuse3Host } from '../../src-main/hosts/fuse3/fuse3Host.ts';
import { hasLibFuse3 } from '../../src-main/hosts/fuse3/libfuse3.ts';
import { unmountFuse } from '../../src-main/hosts/fuseUnmount.ts';
import type { Host, MountedHost } from '../../src-main/hosts/types.ts';
import { runCommand } from '../../src-main/sys/runCommand.ts';
import type { Vfs } from '../../src-main/vfs/types.ts';
import { wrapGuest } from '../../src-main/vfs/wrapGuest.ts';
import { FsError } from '../../src-main/vfs/FsError.ts';
import { fuseMounts, missingFuse, missingPeer } from '../helpers/peers.ts';
import { LINK_COUNTS, linkCountScript } from '../helpers/linkCounts.ts';

// Issue 9, the write path made fast: a file open through the mount is written, read,
// fstat-ed and chmod/chown/futimens-ed by its descriptor (FileHandle.now), even for the
// requests that name only the node. What a user must still see: an untarred tree exactly as
// a plain `tar x` makes it, bytes and attributes in the backing folder at once, and changes
// made in the backing folder at the next look through the mount, even while a file is open.

/** A shell command, asynchronously: this process serves the mount (see fuse-local.test.ts). */
async function sh(cmd: string): Promise<{ code: number; out: string; err: string }> {
  const r = await runCommand('sh', ['-c', cmd]);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** Every entry below `dir` as mode, owner, group, mtime (ns), size, type and path, sorted. */
async function listing(dir: string): Promise<string[]> {
  const r = await sh(`cd '${dir}' && find . -mindepth 1 -printf '%m %u %g %T@ %s %y %p\\n' | LC_ALL=C sort`);
  expect(r.err).toBe('');
  return r.out.trim().split('\n');
}

const skip = missingFuse() ?? missingPeer('root', () => process.getuid?.() === 0, 'untar restores owners only as root');

const HOSTS: [string, Host<FuseMountOptions>, string | undefined][] = [
  ['libfuse 3', fuse3Host, skip ?? missingPeer('libfuse 3', hasLibFuse3, 'apt-get install fuse3')],
  ['fuse-native', fuseHost, skip],
];

let base: string;
let tarball: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'berth-issue9-wp-'));
  // A tree with what tar restores: set-id and sticky bits, other owners, nanosecond times
  // (pax keeps them), empty, small and multi-write files, a symlink, a hard link.
  const t = join(base, 'tree');
  const r = await sh([
    `mkdir -p '${t}/d/sub' '${t}/sticky' '${t}/sgid'`,
    `cd '${t}'`,
    'printf x > one', ': > empty', 'head -c 10000 /dev/urandom > mid', 'head -c 300001 /dev/urandom > d/sub/big',
    'printf leaf > d/sub/leaf', 'ln -s sub/leaf d/link', 'ln mid hard',
    'chmod 4755 one', 'chmod 2750 mid', 'chmod 600 empty', 'chmod 444 d/sub/leaf', 'chmod 750 d', 'chmod 1777 sticky', 'chmod 2775 sgid',
    'chown 65534:65534 empty d/sub', 'chown -h 1000:1000 d/link',
    "touch -h -d '2020-01-02 03:04:05.123456789' d/link",
    "find . -mindepth 1 ! -type l ! -name link -exec touch -m -d '2021-03-04 05:06:07.987654321' {} +",
    "touch -m -d '2019-05-06 07:08:09.5' one d/sub",
    // From its parent: a `.` entry would make tar set the mount root's attributes, which the local guest refuses.
    `tar --format=posix -cf '${base}/tree.tar' -C '${base}' tree`,
  ].join(' && '));
  expect(r.err).toBe('');
  tarball = join(base, 'tree.tar');
});

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

for (const [hostName, host, skipHost] of HOSTS)
describe.skipIf(skipHost)(`issue 9: the write path through FUSE (${hostName})`, () => {
  let src: string;
  let mnt: string;
  const mounts: MountedHost[] = [];
  const guests: Vfs[] = [];

  const mount = async (): Promise<void> => {
    const dir = mkdtempSync(join(base, 'case-'));
    src = join(dir, 'src');
    mnt = join(dir, 'mnt');
    mkdirSync(src);
    mkdirSync(mnt);
    const vfs = wrapGuest(await openLocalGuest({ kind: 'local', path: src, readOnly: false }), { timeoutMs: 10_000 });
    guests.push(vfs);
    mounts.push(await host.mount(vfs, mnt, {}));
  };

  afterEach(async () => {
    for (const m of mounts.splice(0)) await m.unmount().catch(() => {});
    for (const g of guests.splice(0)) await g.close().catch(() => {});
    for (const p of fuseMounts().filter((p) => p.startsWith(base))) await unmountFuse(p, 'immediate', { graceMs: 0 }).catch(() => {});
    expect(fuseMounts().filter((p) => p.startsWith(base))).toEqual([]);
  });

  // fuse-native carries whole milliseconds (issue 9 keeps that host as a fallback).
  it.skipIf(hostName === 'fuse-native')('an untarred tree has the modes, owners, times and bytes of a plain tar x', async () => {
    await mount();
    const ref = join(base, `ref-${hostName.replace(/\W/g, '')}`);
    mkdirSync(ref);
    const r = await sh(`tar -xf '${tarball}' -C '${ref}' && tar -xf '${tarball}' -C '${mnt}'`);
    expect(r.err).toBe('');
    const want = await listing(ref);
    expect(want.length).toBe(12);
    expect(want).toContain('4755 root root 1557126489.5000000000 1 f ./tree/one');
    expect(await listing(mnt)).toEqual(want);
    expect(await listing(src)).toEqual(want);
    const sums = await sh(`cd '${ref}/tree' && sha256sum one empty mid hard d/sub/big d/sub/leaf > '${base}/sums' && cd '${mnt}/tree' && sha256sum -c --quiet '${base}/sums'`);
    expect(sums.err).toBe('');
    expect(sums.code).toBe(0);
  });

  it('a file written, chowned, chmodded and timed through its descriptor is so in the backing folder at once', async () => {
    await mount();
    // One process does what tar does to a file it writes, all on the open descriptor.
    const script = [
      "const fs = require('node:fs');",
      `const fd = fs.openSync(${JSON.stringify(join(mnt, 'f'))}, 'wx', 0o600);`,
      "const b = Buffer.alloc(200001, 'ab');",
      'for (let o = 0; o < b.length; o += 10240) fs.writeSync(fd, b, o, Math.min(10240, b.length - o), o);',
      'fs.fchownSync(fd, 65534, 65534);',
      'fs.fchmodSync(fd, 0o4750);',
      'fs.futimesSync(fd, 1500000000.25, 1600000000.5);',
      'const st = fs.fstatSync(fd);',
      'process.stdout.write([st.size, (st.mode & 0o7777).toString(8), st.uid, st.gid, st.mtimeMs].join(" "));',
      'fs.closeSync(fd);',
    ].join('\n');
    const r = await runCommand(process.execPath, ['-e', script]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('200001 4750 65534 65534 1600000000500');
    const st = statSync(join(src, 'f'));
    expect([st.size, (st.mode & 0o7777).toString(8), st.uid, st.gid, st.mtimeMs, st.atimeMs]).toEqual([200001, '4750', 65534, 65534, 1600000000500, 1500000000250]);
    expect(readFileSync(join(src, 'f')).equals(Buffer.alloc(200001, 'ab'))).toBe(true);
    expect((await sh(`stat -c '%s %a %u %g %Y' '${mnt}/f'`)).out.trim()).toBe('200001 4750 65534 65534 1600000000');
  });

  it('after rm -rf of a tree, the same names made anew in the backing folder show their new kinds, sizes and bytes at once', async () => {
    await mount();
    // Through the mount: the tree made, walked (listings, lookups and attributes cached), removed.
    const made = await sh(`tar -xf '${tarball}' -C '${mnt}' && ls -laR '${mnt}/tree' > /dev/null && cat '${mnt}/tree/d/sub/leaf' && rm -rf '${mnt}/tree' && ls -A '${mnt}'`);
    expect(made.err).toBe('');
    expect(made.out).toBe('leaf');
    // In the backing folder: the same names, other kinds and sizes (a folder where a file was, and back).
    const t = join(src, 'tree');
    mkdirSync(join(t, 'd', 'sub'), { recursive: true });
    mkdirSync(join(t, 'one'));
    writeFileSync(join(t, 'one', 'x'), 'inner');
    writeFileSync(join(t, 'd', 'sub', 'leaf'), 'a longer leaf, made outside');
    writeFileSync(join(t, 'd', 'link'), 'no longer a symlink');
    writeFileSync(join(t, 'mid'), '');
    const seen = await sh(`cd '${mnt}/tree' && find . -mindepth 1 -printf '%y %s %p\\n' | grep -v '^d' | LC_ALL=C sort && cat d/sub/leaf one/x`);
    expect(seen.err).toBe('');
    expect(seen.out).toBe(['f 0 ./mid', 'f 19 ./d/link', 'f 27 ./d/sub/leaf', 'f 5 ./one/x', 'a longer leaf, made outsideinner'].join('\n'));
  });

  // libfuse 2's high-level API (fuse-native) gives each name a node of its own and cannot
  // make the kernel drop another node's attributes: there, as with bindfs, the other names
  // show the new count once their attributes expire (1 s).
  it.skipIf(hostName === 'fuse-native')('a hard link made, removed or renamed over shows the new link count on every name at once', async () => {
    await mount();
    const r = await sh(linkCountScript(mnt));
    expect(r.err).toBe('');
    expect(r.out.trim().split('\n')).toEqual(LINK_COUNTS);
    expect(statSync(join(src, 'a')).nlink).toBe(1);
  });

  it('a change in the backing folder shows at the next open, also while the file is held open through the mount', async () => {
    await mount();
    const r1 = await sh(`printf version1 > '${mnt}/v' && cat '${mnt}/v' && stat -c %s '${mnt}/v'`);
    expect(r1.out).toBe('version18\n');
    writeFileSync(join(src, 'v'), 'version2-longer');
    expect((await sh(`cat '${mnt}/v'`)).out).toBe('version2-longer');
    // Held open for writing through the mount (its descriptor answers for the node), then
    // replaced in the backing folder by a rename, as editors save: the path's new file shows.
    writeFileSync(join(src, 'v.new'), 'version3-longest!');
    const r3 = await sh(`exec 3>>'${mnt}/v' && mv '${src}/v.new' '${src}/v' && stat -c %s '${mnt}/v' && cat '${mnt}/v' && exec 3>&-`);
    expect(r3.err).toBe('');
    expect(r3.out).toBe('17\nversion3-longest!');
  });
});

// A node is one file (NodeTable.ts): a name replaced in the backing folder (as editors save)
// while a file is open through the mount must not give the new file the open one's node,
// whose pages and size the kernel keeps. Served opens share a node's page cache; passthrough
// opens read the backing file itself.
for (const passthrough of [false, true])
describe.skipIf(HOSTS[0]![2])(`issue 9: a name replaced in the backing folder while open through libfuse 3 (passthrough ${passthrough ? 'on' : 'off'})`, () => {
  let dir: string;
  let m: MountedHost | undefined;
  let vfs: Vfs | undefined;

  afterEach(async () => {
    await m?.unmount('short').catch(() => {});
    await vfs?.close().catch(() => {});
    m = undefined;
    vfs = undefined;
    for (const p of fuseMounts().filter((p) => p.startsWith(dir))) await unmountFuse(p, 'immediate', { graceMs: 0 }).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  // How the second open finds the name: a listing of its folder just before (READDIRPLUS),
  // a lookup once the kernel's entry expired, or neither (the kernel's entry still fresh).
  const ways: [string, (mnt: string) => string][] = [
    ['a listing', (mnt) => `ls '${mnt}/d' > /dev/null`],
    ['a lookup', () => 'sleep 1.3'],
    ['the kernel\'s entry', () => ':'],
  ];
  for (const [way, find] of ways)
  it(`a new open found by ${way} reads the new file; the file held open reads its own bytes`, async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-issue9-replaced-'));
    const src = join(dir, 'src');
    const mnt = join(dir, 'mnt');
    mkdirSync(join(src, 'd'), { recursive: true });
    mkdirSync(mnt);
    writeFileSync(join(src, 'd', 'f'), 'old-old-old-old!');
    vfs = wrapGuest(await openLocalGuest({ kind: 'local', path: src, readOnly: false }), { timeoutMs: 10_000 });
    m = await fuse3Host.mount(vfs, mnt, { passthrough });
    const r = await sh([
      `exec 3< '${mnt}/d/f'`,
      `printf NEW-NEW-NEW-NEW-NEW! > '${src}/d/f.tmp'`,
      `mv '${src}/d/f.tmp' '${src}/d/f'`,
      find(mnt),
      `exec 4< '${mnt}/d/f'`,
      // The held file read after the new open, then the new one: each its own bytes and size.
      'head -c 100 <&3; echo',
      'head -c 100 <&4; echo',
      `stat -c %s '${mnt}/d/f'`,
    ].join(' && '));
    expect(r.err).toBe('');
    expect(r.out).toBe('old-old-old-old!\nNEW-NEW-NEW-NEW-NEW!\n20\n');
  });
});

describe.skipIf(HOSTS[0]![2])('issue 9: rename and readlink through libfuse 3 answered at once (Vfs.now)', () => {
  it('mv (within a folder, across folders, over a file, a folder) and readlink work with the guest\'s async rename and readlink failing', async () => {
    const dir = mkdtempSync(join(base, 'now-'));
    const src = join(dir, 'src');
    const mnt = join(dir, 'mnt');
    mkdirSync(join(src, 'a/sub'), { recursive: true });
    mkdirSync(join(src, 'b'));
    mkdirSync(mnt);
    writeFileSync(join(src, 'a/one'), 'one');
    writeFileSync(join(src, 'a/two'), 'two');
    writeFileSync(join(src, 'b/old'), 'old');
    symlinkSync('a/one', join(src, 'ln'));
    const local = await openLocalGuest({ kind: 'local', path: src, readOnly: false });
    // Only the synchronous face can rename and read links here.
    const guest = new Proxy(local, {
      get(target, prop, receiver) {
        if (prop === 'rename' || prop === 'readlink') return () => Promise.reject(new FsError('IO', `async ${String(prop)} used`));
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const vfs = wrapGuest(guest, { timeoutMs: 10_000 });
    const m = await fuse3Host.mount(vfs, mnt, {});
    try {
      const r = await sh([
        `cd '${mnt}'`,
        'readlink ln',
        'mv a/one a/uno',
        'mv a/two b/dos',
        'mv a/uno b/old',
        'mv a/sub b/sub2',
        'cat b/old b/dos',
      ].join(' && '));
      expect(r.err).toBe('');
      expect(r.out).toBe('a/one\nonetwo');
      expect(readdirSync(join(src, 'a'))).toEqual([]);
      expect(readdirSync(join(src, 'b')).sort()).toEqual(['dos', 'old', 'sub2']);
      expect(readFileSync(join(src, 'b/old'), 'utf8')).toBe('one');
      expect(statSync(join(src, 'b/sub2')).isDirectory()).toBe(true);
      // The guest's errors come through as the kernel's: a missing name, and a folder over a file.
      expect((await sh(`mv '${mnt}/a/none' '${mnt}/b/x'`)).code).not.toBe(0);
      expect((await sh(`mv -T '${mnt}/b/sub2' '${mnt}/b/dos'`)).err).toMatch(/Not a directory|cannot overwrite/);
    } finally {
      await m.unmount().catch(() => {});
      await vfs.close().catch(() => {});
      for (const p of fuseMounts().filter((p) => p.startsWith(dir))) await unmountFuse(p, 'immediate', { graceMs: 0 }).catch(() => {});
    }
  });
});
