import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, rmdir, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { berthSandbox, missingLauncher, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { fuseMounts, hasCommand, missingFuse, missingPeer } from '../helpers/peers.ts';
import { sharedIpfsPeer, type SharedIpfsPeer } from '../helpers/sharedPeers.ts';

// Issue 10, batched file puts (guests/mfsPutQueue.ts) and fresh folders
// (guests/mfsFreshDirs.ts): an untar of ~200 small files into a writable MFS mount, and
// renames/unlinks right after each create, must leave in MFS exactly what a local copy
// holds (no file lost, none resurrected, none put at an old name, modes kept) once the
// mount is gone: checked through a FRESH mount of the same MFS, on the js-ipfs peer and
// on the embedded node.

const run = promisify(execFile);
const skip = missingLauncher() ?? missingFuse() ?? missingIpfsPeer() ?? missingPeer('tar', () => hasCommand('tar'), 'apt-get install tar');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** ~200 small files in nested folders, some with their own modes, a symlink and an empty file. */
async function buildTree(dir: string): Promise<void> {
  for (let d = 0; d < 8; d++) {
    const sub = join(dir, `d${d}`, d % 2 ? 'inner' : '');
    await mkdir(sub, { recursive: true });
    for (let i = 0; i < 25; i++) {
      const p = join(sub, `f${i}.txt`);
      await writeFile(p, `${d}:${i}\n`.repeat(1 + ((d * 31 + i * 17) % 300)));
      if (i % 7 === 3) await chmod(p, 0o600);
      if (i % 11 === 5) await chmod(p, 0o755);
    }
  }
  await writeFile(join(dir, 'empty'), '');
  await symlink('d0/f1.txt', join(dir, 'link'));
}

/** rel path → "mode sha256" (files), "-> target" (symlinks), "dir" (folders), below `dir`. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const st = await lstat(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `-> ${await readlink(p)}`;
      else if (st.isDirectory()) {
        out[`${rel}/`] = 'dir';
        await walk(p);
      } else out[rel] = `${(st.mode & 0o7777).toString(8)} ${sha(await readFile(p))}`;
    }
  };
  await walk(dir);
  return out;
}

/** Creates, renames and unlinks right after each other, the same way in `root` (a mount or a local folder). */
async function churn(root: string): Promise<void> {
  await mkdir(join(root, 'churn'));
  for (let i = 0; i < 30; i++) {
    await writeFile(join(root, 'churn', `a${i}`), `first ${i}\n`);
    // renamed at once: must not also be put at its first name
    await rename(join(root, 'churn', `a${i}`), join(root, 'churn', `b${i}`));
    // created and removed at once: must not come back
    await writeFile(join(root, 'churn', `gone${i}`), `gone ${i}\n`);
    await unlink(join(root, 'churn', `gone${i}`));
    // rewritten twice in a row: the last content wins
    await writeFile(join(root, 'churn', `c${i}`), `one ${i}\n`);
    await writeFile(join(root, 'churn', `c${i}`), `two ${i}\n`.repeat(i + 1));
  }
  // a folder filled and moved away at once: its files move with it
  await mkdir(join(root, 'churn', 'moving'));
  for (let i = 0; i < 20; i++) await writeFile(join(root, 'churn', 'moving', `m${i}`), `m${i}\n`);
  await rename(join(root, 'churn', 'moving'), join(root, 'churn', 'moved'));
  // a folder filled, emptied and removed at once
  await mkdir(join(root, 'churn', 'tmpdir'));
  for (let i = 0; i < 10; i++) await writeFile(join(root, 'churn', 'tmpdir', `t${i}`), 't\n');
  for (let i = 0; i < 10; i++) await unlink(join(root, 'churn', 'tmpdir', `t${i}`));
  await rmdir(join(root, 'churn', 'tmpdir'));
}

function batches(label: string, node: () => string): void {
  describe(`batched puts on ${label}`, () => {
    let sb: BerthSandbox;
    let tarball = '';
    let local = '';
    beforeAll(async () => {
      sb = await berthSandbox();
      await sb.startDaemon();
      await sb.client.updateSettings({ offline: true, trustlessGateways: [] });
      const src = await sb.dir('src');
      await buildTree(src);
      tarball = join(sb.base, 'tree.tar');
      await run('tar', ['-cf', tarball, '-C', src, '.']);
      local = await sb.dir('local');
    });
    afterAll(async () => {
      await sb?.run(['unmount', '--all']);
      await sb?.cleanup();
      expect(fuseMounts().filter((m) => sb && m.startsWith(sb.base))).toEqual([]);
    });

    it('an untar and create/rename/unlink churn, unmounted at once, read back through a fresh mount equal a local copy', async () => {
      const m1 = await sb.dir('mnt1');
      const mounted = await sb.run(['mount', 'fuse', 'mfs', '--ipfs-api', node(), '--path', '/', m1]);
      expect(mounted.code, mounted.stderr).toBe(0);
      // a folder of its own: the js-ipfs peer's MFS is shared by the run's test files
      const top = `batch-${Date.now()}-${process.pid}`;
      const mp = join(m1, top);
      await mkdir(mp);
      await mkdir(join(mp, 'untar'));
      await mkdir(join(local, 'untar'));
      await run('tar', ['-xpf', tarball, '-C', join(mp, 'untar')]);
      await run('tar', ['-xpf', tarball, '-C', join(local, 'untar')]);
      // the mount itself sees them before any put is known to be done
      expect(await snapshot(join(mp, 'untar'))).toEqual(await snapshot(join(local, 'untar')));
      await churn(mp);
      await churn(local);
      // a last file closed just before the unmount: the unmount waits for its put
      await writeFile(join(mp, 'last'), 'last\n');
      await writeFile(join(local, 'last'), 'last\n');
      const gone = await sb.run(['unmount', m1]);
      expect(gone.code, gone.stderr).toBe(0);

      const mp2 = await sb.dir('mnt2');
      const again = await sb.run(['mount', 'fuse', 'mfs', '--ipfs-api', node(), '--path', '/', mp2]);
      expect(again.code, again.stderr).toBe(0);
      const want = await snapshot(local);
      const got = await snapshot(join(mp2, top));
      expect(Object.keys(got).length).toBeGreaterThan(250);
      expect(got).toEqual(want);
      expect((await stat(join(mp2, top, 'untar', 'd0', 'f3.txt'))).mode & 0o777).toBe(0o600);
      await sb.run(['unmount', mp2]);
    });
  });
}

describe.skipIf(skip)('issue 10: batched MFS puts', () => {
  let peer: SharedIpfsPeer;
  beforeAll(async () => {
    peer = await sharedIpfsPeer();
  });

  batches('the js-ipfs peer', () => peer.apiMultiaddr);
  batches('the embedded node', () => 'embedded');
});
