import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, readlink, rename, symlink, writeFile, lstat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { berthSandbox, missingLauncher, waitFor, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { sharedIpfsPeer, type SharedIpfsPeer } from '../helpers/sharedPeers.ts';
import { fuseMounts, hasCommand, missingFuse, missingPeer } from '../helpers/peers.ts';

// Issue 10: MFS through FUSE, as a shell user works with it, on the js-ipfs peer (Kubo's
// files API) and on the embedded node: cp -r of a tree in and out with equal hashes,
// git init && git commit inside, rsync, an editor-style save (temp + rename over), random
// writes against a local copy, and a kill -9 of the daemon in the middle of a copy that
// leaves MFS consistent (every file there whole, none half-written).

const run = promisify(execFile);
const skip = missingLauncher() ?? missingFuse() ?? missingIpfsPeer() ?? missingPeer('git and rsync', () => hasCommand('git') && hasCommand('rsync'), 'apt-get install git rsync');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A small tree: nested folders, 60 small files, a 3 MiB file, an empty file, a symlink. */
async function buildTree(dir: string): Promise<void> {
  await mkdir(join(dir, 'a', 'b', 'c'), { recursive: true });
  await mkdir(join(dir, 'many'), { recursive: true });
  await writeFile(join(dir, 'a', 'b', 'c', 'deep.txt'), 'deep\n');
  await writeFile(join(dir, 'empty'), '');
  await writeFile(join(dir, 'big.bin'), randomBytes(3 * 1024 * 1024 + 5));
  await writeFile(join(dir, 'name with spaces ✓.txt'), 'unicode\n');
  for (let i = 0; i < 60; i++) await writeFile(join(dir, 'many', `f${i}.txt`), `${i}\n`.repeat(i + 1));
  await symlink('a/b/c/deep.txt', join(dir, 'link'));
}

/** path → sha256 (files) or "-> target" (symlinks), for every entry below `dir`. */
async function hashes(dir: string): Promise<Record<string, string>> {
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
      } else out[rel] = sha(await readFile(p));
    }
  };
  await walk(dir);
  return out;
}

function workloads(label: string, node: () => string): void {
  describe(`MFS through FUSE on ${label}`, () => {
    let sb: BerthSandbox;
    let mp = '';
    let src = '';
    beforeAll(async () => {
      sb = await berthSandbox();
      await sb.startDaemon();
      await sb.client.updateSettings({ offline: true, trustlessGateways: [] });
      src = await sb.dir('src');
      await buildTree(src);
      mp = await sb.dir('mnt');
      const r = await sb.run(['mount', 'fuse', 'mfs', '--ipfs-api', node(), '--path', '/', mp]);
      expect(r.code, r.stderr).toBe(0);
    });
    afterAll(async () => {
      await sb?.run(['unmount', '--all']);
      await sb?.cleanup();
      expect(fuseMounts().filter((m) => sb && m.startsWith(sb.base))).toEqual([]);
    });

    it('cp -r in and out gives equal hashes; berth cid names the folder', async () => {
      await run('cp', ['-r', src, join(mp, 'tree')]);
      expect(await hashes(join(mp, 'tree'))).toEqual(await hashes(src));
      const back = join(sb.base, 'back');
      await run('cp', ['-r', join(mp, 'tree'), back]);
      expect(await hashes(back)).toEqual(await hashes(src));
      const cid = (await sb.run(['cid', join(mp, 'tree', 'big.bin')])).stdout.trim();
      expect(cid).toMatch(/^baf/);
      expect((await sb.run(['link', join(mp, 'tree')])).stdout).toMatch(/\/ipfs\/(baf|Qm)/);
    });

    it('git init && git commit inside', async () => {
      const repo = join(mp, 'repo');
      await mkdir(repo);
      const git = (...args: string[]) => run('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@e', ...args]);
      await git('init', '-q');
      await writeFile(join(repo, 'README'), 'hello\n');
      await git('add', 'README');
      await git('commit', '-q', '-m', 'first');
      await writeFile(join(repo, 'README'), 'hello again\n');
      await git('commit', '-q', '-am', 'second');
      expect((await git('log', '--format=%s')).stdout.trim().split('\n')).toEqual(['second', 'first']);
      expect((await git('status', '--porcelain')).stdout).toBe('');
      expect((await git('fsck', '--no-progress')).stderr).not.toMatch(/error|missing|corrupt/i);
    });

    it('rsync -a copies the tree in; a second rsync --checksum transfers nothing', async () => {
      await run('rsync', ['-a', `${src}/`, join(mp, 'synced')]);
      expect(await hashes(join(mp, 'synced'))).toEqual(await hashes(src));
      // --checksum: fuse-native 2.2.6 hands utimens the access time for both times, so
      // mtimes set through FUSE are not the ones rsync asked for (hosts/fuseOps.ts)
      const again = await run('rsync', ['-a', '--checksum', '--itemize-changes', `${src}/`, join(mp, 'synced')]);
      expect(again.stdout.split('\n').filter((l) => /^[<>]f/.test(l))).toEqual([]);
    });

    it('an editor-style save (write a temp file, rename it over the original) replaces the content', async () => {
      const doc = join(mp, 'doc.txt');
      await writeFile(doc, 'version 1\n');
      const tmp = join(mp, '.doc.txt.tmp');
      await writeFile(tmp, 'version 2\n');
      await rename(tmp, doc);
      expect(await readFile(doc, 'utf8')).toBe('version 2\n');
      expect((await readdir(mp)).includes('.doc.txt.tmp')).toBe(false);
    });

    it('random writes through the mount match a local copy', async () => {
      const path = join(mp, 'random.bin');
      let copy = Buffer.from(randomBytes(700_000));
      await writeFile(path, copy);
      const fh = await open(path, 'r+');
      try {
        for (let i = 0; i < 50; i++) {
          const pos = (i * 104_729) % 900_000;
          const chunk = randomBytes(1 + ((i * 7_919) % 50_000));
          await fh.write(chunk, 0, chunk.length, pos);
          if (pos + chunk.length > copy.length) copy = Buffer.concat([copy, Buffer.alloc(pos + chunk.length - copy.length)]);
          chunk.copy(copy, pos);
        }
      } finally {
        await fh.close();
      }
      expect(sha(await readFile(path))).toBe(sha(copy));
    });
  });
}

describe.skipIf(skip)('issue 10: MFS through FUSE', () => {
  let peer: SharedIpfsPeer;
  beforeAll(async () => {
    peer = await sharedIpfsPeer();
  });

  workloads('the js-ipfs peer', () => peer.apiMultiaddr);
  workloads('the embedded node', () => 'embedded');

  it('kill -9 of the daemon in the middle of a copy leaves every file in MFS whole', async () => {
    const sb = await berthSandbox();
    try {
      const daemon = await sb.startDaemon();
      const src = await sb.dir('src');
      const files = new Map<string, Buffer>();
      for (let i = 0; i < 40; i++) {
        const data = randomBytes(200_000 + i * 1000);
        files.set(`f${i}.bin`, data);
        await writeFile(join(src, `f${i}.bin`), data);
      }
      const mp = await sb.dir('mnt');
      expect((await sb.run(['mount', 'fuse', 'mfs', '--ipfs-api', peer.apiMultiaddr, '--path', '/', mp])).code).toBe(0);
      await mkdir(join(mp, 'crash'));
      const copying = run('cp', ['-r', src, join(mp, 'crash', 'src')]).catch(() => undefined);
      // wait until some files are in, then kill the daemon serving the mount
      const inMfs = async (): Promise<number> => {
        let n = 0;
        for await (const _ of peer.client.files.ls('/crash/src')) n++;
        return n;
      };
      await waitFor(async () => ((await inMfs().catch(() => 0)) >= 3 ? true : undefined), 60_000, 'some files in MFS');
      process.kill(daemon.pid, 'SIGKILL');
      await daemon.exited;
      await copying;
      let whole = 0;
      for await (const e of peer.client.files.ls('/crash/src')) {
        const parts: Uint8Array[] = [];
        for await (const c of peer.client.files.read(`/crash/src/${e.name}`)) parts.push(c);
        const want = files.get(e.name);
        expect(want, `unexpected entry ${e.name}`).toBeDefined();
        expect({ name: e.name, sha: sha(Buffer.concat(parts)) }).toEqual({ name: e.name, sha: sha(want!) });
        whole++;
      }
      expect(whole).toBeGreaterThan(0);
    } finally {
      await sb.cleanup();
    }
  });
});
