import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRNO } from '../../src-main/vfs/errno.ts';

// One suite, many ways in (STYLE.md: rclone's vfstest): the same tree, read directly
// from a guest, through FUSE and through NFS loopback, must look the same. An adapter
// only needs to stat, list, read and readlink; errors are compared by kind.

/** The minimal view of a tree every way in can offer. Paths are "/"-rooted. */
export interface TreeReader {
  /** lstat: a symlink is reported as one. */
  stat(path: string): Promise<{ type: 'file' | 'dir' | 'symlink'; size: number }>;
  /** Entry names, any order. */
  list(path: string): Promise<string[]>;
  /** `length` bytes from `position` (fewer at the end), or the whole file. */
  read(path: string, position?: number, length?: number): Promise<Buffer>;
  readlink(path: string): Promise<string>;
}

/** A tree under test and how to take it down. */
export interface TreeUnderTest {
  reader: TreeReader;
  close(): Promise<void>;
}

/** Makes the tree to test from the folder the suite filled (e.g. mount it, or open a guest on it). */
export type TreeFactory = (folder: string) => Promise<TreeUnderTest>;

/** Deterministic bytes, so a failure is reproducible. */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** The fixture tree, inline: path → content (Buffer), 'dir', or { link: target }. */
function fixture(): Map<string, Buffer | 'dir' | { link: string }> {
  const t = new Map<string, Buffer | 'dir' | { link: string }>([
    ['/a', 'dir'],
    ['/a/b', 'dir'],
    ['/a/b/c', 'dir'],
    ['/a/b/c/deep.txt', Buffer.from('deep\n')],
    ['/empty', Buffer.alloc(0)],
    ['/one', Buffer.from('1')],
    ['/big.bin', bytes(1024 * 1024 + 1, 7)],
    ['/name with spaces', Buffer.from('spaces\n')],
    ['/ünïcødé ✓.txt', Buffer.from('unicode\n')],
    ['/many', 'dir'],
    ['/rel-link', { link: 'one' }],
    ['/dir-link', { link: 'a/b' }],
    ['/outside-link', { link: '../../etc/passwd' }],
    ['/abs-link', { link: '/etc/passwd' }],
  ]);
  for (let i = 0; i < 300; i++) t.set(`/many/f${String(i).padStart(3, '0')}`, Buffer.from(`${i}\n`));
  return t;
}

const KIND_OF_ERRNO = new Map(Object.entries(ERRNO).map(([k, n]) => [n, k]));
const ERRNO_OF_CODE = constants.errno as Record<string, number>;

/** The error kind of anything an adapter throws: an FsError's kind, or a Node errno code's. */
export function kindOf(err: unknown): string {
  const e = err as { kind?: string; code?: string };
  if (typeof e?.kind === 'string') return e.kind;
  const n = e?.code ? ERRNO_OF_CODE[e.code] : undefined;
  return (n !== undefined && KIND_OF_ERRNO.get(n)) || `unknown error: ${String(err)}`;
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return kindOf(err);
  }
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Registers the conformance suite for one way of reading a tree. */
export function conformance(name: string, make: TreeFactory, opts: { skip?: string; folder: () => string }): void {
  describe.skipIf(opts.skip)(`conformance: ${name}`, () => {
    const tree = fixture();
    let under: TreeUnderTest | undefined;
    let r: TreeReader;

    beforeAll(async () => {
      const root = join(opts.folder(), 'tree');
      mkdirSync(root, { recursive: true });
      for (const [p, v] of tree) {
        const at = join(root, p);
        if (v === 'dir') mkdirSync(at, { recursive: true });
        else if (Buffer.isBuffer(v)) writeFileSync(at, v);
        else symlinkSync(v.link, at);
      }
      under = await make(root);
      r = under.reader;
    });
    afterAll(async () => {
      await under?.close();
    });

    it('lists every folder with exactly its entries', async () => {
      const dirs = ['/', ...[...tree].filter(([, v]) => v === 'dir').map(([p]) => p)];
      for (const d of dirs) {
        const prefix = d === '/' ? '/' : `${d}/`;
        const expected = [...tree.keys()].filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/')).map((p) => p.slice(prefix.length));
        expect({ d, names: (await r.list(d)).sort() }).toEqual({ d, names: expected.sort() });
      }
    });

    it('stats every node with its type and size', async () => {
      for (const [p, v] of tree) {
        const st = await r.stat(p);
        if (v === 'dir') expect({ p, type: st.type }).toEqual({ p, type: 'dir' });
        else if (Buffer.isBuffer(v)) expect({ p, type: st.type, size: st.size }).toEqual({ p, type: 'file', size: v.length });
        else expect({ p, type: st.type, size: st.size }).toEqual({ p, type: 'symlink', size: Buffer.byteLength(v.link) });
      }
      expect((await r.stat('/')).type).toBe('dir');
    });

    it('reads every file byte for byte, also at odd offsets', async () => {
      for (const [p, v] of tree) if (Buffer.isBuffer(v)) expect({ p, sum: sha(await r.read(p)) }).toEqual({ p, sum: sha(v) });
      const big = tree.get('/big.bin') as Buffer;
      for (const [pos, len] of [[0, 1], [1, 4095], [4097, 131_073], [big.length - 3, 100], [big.length, 10], [777_777, 65_536]] as const) {
        expect({ pos, ok: (await r.read('/big.bin', pos, len)).equals(big.subarray(pos, pos + len)) }).toEqual({ pos, ok: true });
      }
    });

    it('serves 16 reads at once, every byte right', async () => {
      const big = tree.get('/big.bin') as Buffer;
      const got = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? r.read('/big.bin') : r.read(`/many/f${String(i).padStart(3, '0')}`))));
      got.forEach((b, i) => expect(b.equals(i % 2 ? big : Buffer.from(`${i}\n`))).toBe(true));
    });

    it('returns symlink targets as written, never following them', async () => {
      for (const [p, v] of tree) if (!Buffer.isBuffer(v) && v !== 'dir') expect(await r.readlink(p)).toBe(v.link);
    });

    it('fails with the same error kinds', async () => {
      expect(await failure(r.stat('/nope'))).toBe('NotExist');
      expect(await failure(r.stat('/a/nope/deeper'))).toBe('NotExist');
      expect(await failure(r.read('/nope'))).toBe('NotExist');
      expect(await failure(r.list('/one'))).toBe('NotDir');
      expect(await failure(r.stat('/one/x'))).toBe('NotDir');
      expect(await failure(r.read('/a'))).toBe('IsDir');
      expect(await failure(r.readlink('/one'))).toBe('InvalidItem');
    });
  });
}
