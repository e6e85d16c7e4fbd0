import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMount, type CliMount } from '../conformance/cliMount.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';
import { sh } from '../helpers/shell.ts';
import { runCommand } from '../../src-main/sys/runCommand.ts';
import { UNLINKED_OPEN, UNLINKED_OPEN_SCRIPT } from '../helpers/unlinkedOpen.ts';
import { LINK_COUNTS, linkCountScript } from '../helpers/linkCounts.ts';
import { startRpcCounter, type RpcCounter } from '../helpers/rpcCount.ts';

// The reference tool's demo chain, through the CLI: a FUSE mount of an NFS guest whose
// server is Berth's own NFS host serving a local folder. sha256sum must agree end to end.

const skip = missingFuse();

describe.skipIf(skip)('FUSE ← NFS guest ← NFS host ← local guest', () => {
  let base: string;
  let src: string;
  let mnt: string;
  const children: CliMount[] = [];
  const counters: RpcCounter[] = [];
  const sums = new Map<string, string>();

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'berth-nfs-chain-'));
    src = join(base, 'src');
    mnt = join(base, 'mnt');
    mkdirSync(join(src, 'dir/sub'), { recursive: true });
    mkdirSync(mnt);
    const files: Record<string, Buffer> = {
      'big.bin': randomBytes(20 * 1024 * 1024 + 3),
      'small.txt': Buffer.from('small\n'),
      'dir/sub/deep.bin': randomBytes(300_000),
      'name with spaces.txt': Buffer.from('spaces\n'),
    };
    for (const [p, data] of Object.entries(files)) {
      writeFileSync(join(src, p), data);
      sums.set(p, createHash('sha256').update(data).digest('hex'));
    }
    symlinkSync('small.txt', join(src, 'link'));
  });

  afterAll(async () => {
    for (const c of children.reverse()) await c.stop();
    for (const c of counters) await c.close();
    expect(fuseMounts().filter((p) => p.startsWith(base ?? '/nonexistent'))).toEqual([]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  /** `berth mount nfs local` with `args` on a loopback port: the server and the multiaddr it listens on. */
  const serveNfs = async (args: string[]): Promise<{ server: CliMount; listen: string }> => {
    const server = await cliMount(['nfs', 'local', ...args, '/ip4/127.0.0.1/tcp/0']);
    children.push(server);
    const listen = /^mounted .* at (\/ip4\/127\.0\.0\.1\/tcp\/\d+)$/m.exec(server.log.out)?.[1];
    expect(listen, server.log.out).toBeDefined();
    return { server, listen: listen! };
  };

  /**
   * A writable chain over a new folder `name`-src of `base`, through the FUSE NFS client at
   * `name`-mnt; with `count`, through a proxy counting the client's calls.
   */
  const writableChain = async (name: string, count = false): Promise<{ src: string; mnt: string; counter?: RpcCounter }> => {
    const src = join(base, `${name}-src`);
    const mnt = join(base, `${name}-mnt`);
    mkdirSync(src);
    mkdirSync(mnt);
    const { listen } = await serveNfs(['--path', src, '--rw', '--nfs-no-root-squash']);
    let via = listen;
    let counter: RpcCounter | undefined;
    if (count) {
      counter = await startRpcCounter(Number(/\/tcp\/(\d+)$/.exec(listen)![1]));
      counters.push(counter);
      via = `/ip4/127.0.0.1/tcp/${counter.port}`;
    }
    children.push(await cliMount(['fuse', 'nfs', '--nfs-server', via, '--rw', '--timeout', '20s', mnt]));
    return { src, mnt, ...(counter ? { counter } : {}) };
  };

  it('serves the same bytes end to end', async () => {
    const { server, listen } = await serveNfs(['--path', src]);
    // The mount commands follow the "mounted" line; give them a moment to arrive.
    for (let i = 0; i < 50 && !server.log.out.includes('macos:'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(server.log.out).toMatch(/linux: mount -t nfs -o vers=3,proto=tcp,port=\d+,mountport=\d+,nolock 127\.0\.0\.1:\/ \/mnt\/x/);

    const fuse = await cliMount(['fuse', 'nfs', '--nfs-server', listen, '--timeout', '20s', mnt]);
    children.push(fuse);

    const names = (await sh(`ls -A1 '${mnt}'`)).out.trim().split('\n');
    expect(names).toEqual(['big.bin', 'dir', 'link', 'name with spaces.txt', 'small.txt']);
    expect((await sh(`readlink '${mnt}/link'`)).out.trim()).toBe('small.txt');
    for (const [p, sum] of sums) {
      const r = await sh(`sha256sum '${join(mnt, p)}'`);
      expect(r.code, r.err).toBe(0);
      expect(r.out.split(' ')[0], p).toBe(sum);
    }
    // The NFS host is read-only by default: writes through the chain are refused.
    const w = await sh(`echo x > '${mnt}/new.txt'`);
    expect(w.code).not.toBe(0);
  });

  it('keeps times to the nanosecond end to end, read and set (writable)', async () => {
    const rwSrc = join(base, 'rw-src');
    const rwMnt = join(base, 'rw-mnt');
    mkdirSync(join(rwSrc, 'sub'), { recursive: true });
    mkdirSync(rwMnt);
    writeFileSync(join(rwSrc, 'f'), 'f\n');
    const { listen } = await serveNfs(['--path', rwSrc, '--rw', '--nfs-no-root-squash']);
    children.push(await cliMount(['fuse', 'nfs', '--nfs-server', listen, '--rw', '--timeout', '20s', rwMnt]));
    const mtime = async (p: string): Promise<string> => {
      const r = await sh(`date -r '${p}' +%s.%N`);
      expect(r.code, r.err).toBe(0);
      return r.out.trim();
    };
    // read: a time a double in ms cannot hold, from a listing (ls -l) and from a lookup (stat)
    await sh(`touch -m -d @1704067200.123456789 '${rwSrc}/f' '${rwSrc}/sub'`);
    const ls = await sh(`ls -l --time-style=+%s.%N '${rwMnt}'`);
    expect(ls.out).toMatch(/ 1704067200\.123456789 f$/m);
    expect(ls.out).toMatch(/ 1704067200\.123456789 sub$/m);
    expect(await mtime(`${rwMnt}/f`)).toBe('1704067200.123456789');
    // set: the nanoseconds reach the backing folder
    const t = await sh(`touch -m -d @1600000000.987654321 '${rwMnt}/f' && touch -m -d @1600000001.000000001 '${rwMnt}/sub'`);
    expect(t.code, t.err).toBe(0);
    expect(await mtime(`${rwSrc}/f`)).toBe('1600000000.987654321');
    expect(await mtime(`${rwSrc}/sub`)).toBe('1600000001.000000001');
    expect(await mtime(`${rwMnt}/f`)).toBe('1600000000.987654321');
  });

  it('a file unlinked while open stays usable through its descriptors; its hidden name goes at the last close (writable)', async () => {
    const { src: rwSrc, mnt: rwMnt } = await writableChain('unlinked');
    const r = await runCommand(process.execPath, ['-e', UNLINKED_OPEN_SCRIPT, rwMnt]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(UNLINKED_OPEN);
    // Renamed away while open (as the kernel's NFS client does), removed at the last close.
    expect(readdirSync(rwSrc)).toEqual(['held']);
    expect(readFileSync(join(rwSrc, 'held'), 'utf8')).toBe('a new file');
  });

  it('says extended attributes are not supported, as the kernel\'s NFSv3 client does, and writes go on (writable)', async () => {
    const { src: rwSrc, mnt: rwMnt } = await writableChain('xattr');
    const r = await sh(`printf one > '${rwMnt}/x' && printf two >> '${rwMnt}/x' && getfattr -n user.a '${rwMnt}/x'`);
    expect(r.err).toMatch(/Operation not supported/);
    expect(readFileSync(join(rwSrc, 'x'), 'utf8')).toBe('onetwo');
  });

  it('shows a hard link\'s new count on every name at once, through the client\'s attribute cache too (writable)', async () => {
    const { mnt: rwMnt } = await writableChain('link');
    const r = await sh(linkCountScript(rwMnt));
    expect(r.err).toBe('');
    expect(r.out.trim().split('\n')).toEqual(LINK_COUNTS);
  });

  it('a name made again after its folder moved away names the new file, through a tree of many (writable)', async () => {
    const { src: rwSrc, mnt: rwMnt } = await writableChain('move');
    // Enough names that the client keeps many handles; 'a' and 'ab' share a prefix.
    const made = await sh(
      `cd '${rwMnt}' && mkdir -p a/deep ab && for i in $(seq 1 300); do echo "old $i" > a/f$i; done && echo old > a/deep/x && echo ab > ab/x && cat a/f7 a/deep/x`,
    );
    expect(made.code, made.err).toBe(0);
    expect(made.out).toBe('old 7\nold\n');
    // The folder moves away; its names are made again: each must name the new file, not the
    // moved one the client knew by that path.
    const again = await sh(
      `cd '${rwMnt}' && mv a moved && mkdir -p a/deep && echo new > a/f7 && echo new > a/deep/x && cat a/f7 a/deep/x moved/f7 moved/deep/x ab/x && if [ -e a/f8 ]; then echo 'a/f8 is there'; else echo 'no a/f8'; fi`,
    );
    expect(again.code, again.err).toBe(0);
    expect(again.out).toBe('new\nnew\nold 7\nold\nab\nno a/f8\n');
    expect(readFileSync(join(rwSrc, 'a/f7'), 'utf8')).toBe('new\n');
    expect(readFileSync(join(rwSrc, 'moved/f7'), 'utf8')).toBe('old 7\n');
    // Removing the moved tree leaves the new one and the sibling whose name begins the same.
    const rm = await sh(`cd '${rwMnt}' && rm -r moved && cat a/f7 a/deep/x ab/x && ls moved 2>&1`);
    expect(rm.out).toMatch(/^new\nnew\nab\n.*No such file or directory/);
  });

  it('makes a file or a folder, or changes its mode, without asking for its attributes again: the reply holds them (writable)', async () => {
    // Each call is a network round trip: asking GETATTR after each MKDIR, CREATE and SETATTR
    // (whose replies hold the attributes) made an untar of /usr/share/doc send 84.8k calls, not 66.7k.
    const { src: rwSrc, mnt: rwMnt, counter } = await writableChain('calls', true);
    counter!.reset();
    const made = await sh(`cd '${rwMnt}' && umask 022 && mkdir -m 0750 d1 d2 && touch f1 f2`);
    expect(made.code, made.err).toBe(0);
    const calls = counter!.counts();
    expect([calls.MKDIR, calls.CREATE], counter!.timeline()).toEqual([2, 2]);
    // At most the folder's own, read again for the kernel's permission check after it changed
    // (each node made or changed would add one).
    expect(calls.GETATTR ?? 0, counter!.timeline()).toBeLessThanOrEqual(1);
    const changed = await sh(`cd '${rwMnt}' && chmod 0640 f1 && chmod 0711 d2 && stat -c '%n %a %F' d1 d2 f1 f2`);
    expect(changed.code, changed.err).toBe(0);
    expect(changed.out).toBe('d1 750 directory\nd2 711 directory\nf1 640 regular empty file\nf2 644 regular empty file\n');
    expect(counter!.counts().SETATTR).toBeGreaterThanOrEqual(4); // touch's two (times) and the two chmods
    expect((await sh(`stat -c '%a' '${rwSrc}/f1' '${rwSrc}/d2'`)).out).toBe('640\n711\n');
  });
});
