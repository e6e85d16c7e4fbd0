import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as dagCbor from '@ipld/dag-cbor';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { importer } from 'ipfs-unixfs-importer';
import type { KuboRPCClient } from 'kubo-rpc-client';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';

// The fixture tree of issue 2, written to disk and added to a peer. Tests compare what
// a guest (directly, through FUSE or NFS) shows against `FixtureTree.entries`.
//
// Layout (relative to the tree root):
//   a/file.txt, a/b/c/deep.txt      nested folders
//   empty.txt                       0 bytes
//   one-byte.bin                    1 byte
//   big.bin                         50 MiB + 1 byte, deterministic pseudo-random (AES-CTR stream)
//   many/f0000.txt .. f4999.txt     5,000 entries, added HAMT-sharded
//   with spaces/a file name.txt     names with spaces
//   unicode/café ☕ naïve.txt, unicode/日本語/ファイル.txt   Unicode (NFC)
//   empty-dir/                      an empty folder
//   meta/with-mtime.txt             added with UnixFS mode 0640 and mtime 1600000000
//   links/rel -> ../a/file.txt      relative symlink
//   links/reldir -> ../a/b          relative symlink to a folder
//   links/abs -> /ipfs/<cid of a/file.txt>
//   links/loop1 -> loop2, links/loop2 -> loop1
//   links/outside -> ../../../../etc/passwd

/** Size of the big file: 50 MiB + 1 byte, so reads cross a chunk boundary at the end. */
export const BIG_SIZE = 50 * 1024 * 1024 + 1;
/** Entries in the sharded folder `many/`. */
export const MANY_COUNT = 5000;
/** The mtime (seconds) `meta/with-mtime.txt` carries in its UnixFS metadata. */
export const META_MTIME_SECS = 1_600_000_000;
/** The mode `meta/with-mtime.txt` carries in its UnixFS metadata. */
export const META_MODE = 0o640;

/** The file added with UnixFS mode and mtime. */
const META_FILE = 'meta/with-mtime.txt';
/** Content of `a/file.txt`; `links/abs` points at its CID. */
const A_FILE = 'hello from a\n';

/** One node of the expected tree. */
export interface FixtureEntry {
  /** Relative path, "/"-separated, "" for the root. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  /** File size in bytes (0 for folders and symlinks). */
  size: number;
  /** Symlink target as written. */
  target?: string;
  /** Hex sha256 of a file's bytes. */
  sha256?: string;
  /** Names in a folder, sorted. */
  children?: string[];
}

/** The tree as written to disk. */
export interface FixtureTree {
  /** Absolute path of the tree's root folder. */
  dir: string;
  /** Every node by relative path ("" is the root). */
  entries: Map<string, FixtureEntry>;
}

/** What the peer made of the tree. */
export interface AddedFixture {
  /** CID of the tree's root folder (as the peer prints it, CIDv0). */
  rootCid: string;
  /** CID of every node by relative path ("" is the root). */
  cids: Map<string, string>;
}

/** Deterministic pseudo-random bytes: AES-128-CTR keystream of a fixed key (GB/s, no state). */
export function pseudoRandomChunks(total: number, chunkSize = 1 << 20): Generator<Buffer> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(chunkSize);
  return (function* gen() {
    let left = total;
    while (left > 0) {
      const n = Math.min(left, chunkSize);
      yield cipher.update(n === chunkSize ? zeros : zeros.subarray(0, n));
      left -= n;
    }
  })();
}

function hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes the fixture tree into `dir` (created; an existing one is replaced). */
export async function buildFixtureTree(dir: string): Promise<FixtureTree> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const entries = new Map<string, FixtureEntry>();

  const file = async (rel: string, content: string | Buffer): Promise<void> => {
    await writeFile(join(dir, rel), content);
    const size = typeof content === 'string' ? Buffer.byteLength(content) : content.length;
    entries.set(rel, { path: rel, type: 'file', size, sha256: hex(content) });
  };
  const folder = async (rel: string): Promise<void> => {
    await mkdir(join(dir, rel), { recursive: true });
    entries.set(rel, { path: rel, type: 'dir', size: 0 });
  };
  const link = async (rel: string, target: string): Promise<void> => {
    await symlink(target, join(dir, rel));
    entries.set(rel, { path: rel, type: 'symlink', size: 0, target });
  };

  entries.set('', { path: '', type: 'dir', size: 0 });
  await folder('a');
  await file('a/file.txt', A_FILE);
  await folder('a/b');
  await folder('a/b/c');
  await file('a/b/c/deep.txt', 'deep inside\n');
  await file('empty.txt', '');
  await file('one-byte.bin', 'x');

  const big = await open(join(dir, 'big.bin'), 'w');
  const h = createHash('sha256');
  try {
    for (const chunk of pseudoRandomChunks(BIG_SIZE)) {
      h.update(chunk);
      await big.write(chunk);
    }
  } finally {
    await big.close();
  }
  entries.set('big.bin', { path: 'big.bin', type: 'file', size: BIG_SIZE, sha256: h.digest('hex') });

  await folder('many');
  for (let i = 0; i < MANY_COUNT; i++) {
    const name = `f${String(i).padStart(4, '0')}.txt`;
    await file(`many/${name}`, `entry ${i}\n`);
  }
  await folder('with spaces');
  await file('with spaces/a file name.txt', 'spaces\n');
  await folder('unicode');
  await file('unicode/café ☕ naïve.txt'.normalize('NFC'), 'unicode\n');
  await folder('unicode/日本語'.normalize('NFC'));
  await file('unicode/日本語/ファイル.txt'.normalize('NFC'), 'japanese\n');
  await folder('empty-dir');
  await folder('meta');
  await file(META_FILE, 'has metadata\n');

  await folder('links');
  await link('links/rel', '../a/file.txt');
  await link('links/reldir', '../a/b');
  await link('links/abs', `/ipfs/${await smallFileCid(A_FILE)}`);
  await link('links/loop1', 'loop2');
  await link('links/loop2', 'loop1');
  await link('links/outside', '../../../../etc/passwd');

  for (const e of entries.values()) {
    if (e.type !== 'dir') continue;
    const prefix = e.path === '' ? '' : `${e.path}/`;
    e.children = [...entries.keys()]
      .filter((p) => p.startsWith(prefix) && p !== e.path && !p.slice(prefix.length).includes('/'))
      .map((p) => p.slice(prefix.length))
      .sort();
  }
  return { dir, entries };
}

/** CIDv0 js-ipfs/Kubo give a file under 256 KiB added with default options. */
async function smallFileCid(content: string): Promise<string> {
  const data = new TextEncoder().encode(content);
  const node = dagPb.prepare({ Data: new UnixFS({ type: 'file', data }).marshal(), Links: [] });
  return CID.createV0(await sha256.digest(dagPb.encode(node))).toString();
}

/** dag-pb bytes and CIDv0 of a UnixFS node without links. */
async function leafBlock(unixfs: UnixFS): Promise<{ bytes: Uint8Array; cid: CID }> {
  const bytes = dagPb.encode(dagPb.prepare({ Data: unixfs.marshal(), Links: [] }));
  return { bytes, cid: CID.createV0(await sha256.digest(bytes)) };
}

/** Relative paths under `dir`, parents before children, sorted (symlinks not followed). */
async function walk(dir: string): Promise<Array<{ rel: string; kind: 'file' | 'dir' | 'symlink' }>> {
  const out: Array<{ rel: string; kind: 'file' | 'dir' | 'symlink' }> = [];
  const visit = async (rel: string): Promise<void> => {
    const items = await readdir(join(dir, rel), { withFileTypes: true });
    items.sort((x, y) => (x.name < y.name ? -1 : 1));
    for (const it of items) {
      const r = rel === '' ? it.name : `${rel}/${it.name}`;
      if (it.isSymbolicLink()) out.push({ rel: r, kind: 'symlink' });
      else if (it.isDirectory()) {
        out.push({ rel: r, kind: 'dir' });
        await visit(r);
      } else out.push({ rel: r, kind: 'file' });
    }
  };
  await visit('');
  return out;
}

/** One block of the local DAG. */
interface LocalBlock {
  cid: CID;
  bytes: Uint8Array;
}

/**
 * Builds the tree's UnixFS DAG here, with the importer js-ipfs itself uses and its add
 * defaults (CIDv0, 256 KiB chunks, balanced, dag-pb leaves; folders of over 1,000
 * entries HAMT-sharded), adds the symlinks (which no add form carries) and the file
 * with mode/mtime (js-ipfs 0.66 adds such a file with a leaf that `cat` returns raw, a
 * peer bug) as hand-built nodes, then imports it all as ONE CAR: ~10x faster than an
 * add of 5,000 files over multipart. The root is pinned recursively (js-ipfs's init
 * pins two folders of its own). CIDs are the ones the peer then reports.
 */
export async function addFixture(client: KuboRPCClient, dir: string): Promise<AddedFixture> {
  const items = await walk(dir);
  const TOP = 'fixture';
  const store = new Map<string, LocalBlock>();
  const putLocal = async (bytes: Uint8Array): Promise<CID> => {
    const cid = CID.createV0(await sha256.digest(bytes));
    store.set(cid.toString(), { cid, bytes });
    return cid;
  };
  const getLocal = (cid: string): Uint8Array => {
    const b = store.get(cid);
    if (!b) throw new Error(`fixture block ${cid} was not built`);
    return b.bytes;
  };

  const manual = (i: { rel: string; kind: string }): boolean => i.kind === 'symlink' || i.rel === META_FILE;
  const source = items
    .filter((i) => !manual(i))
    .map((i) => (i.kind === 'dir' ? { path: `${TOP}/${i.rel}` } : { path: `${TOP}/${i.rel}`, content: createReadStream(join(dir, i.rel)) }));
  const blockstore = {
    put: async (cid: { toString(): string; bytes: Uint8Array }, bytes: Uint8Array) => {
      const c = CID.decode(cid.bytes);
      store.set(c.toString(), { cid: c, bytes });
      return cid;
    },
    get: async (cid: { toString(): string }) => getLocal(cid.toString()),
    has: async (cid: { toString(): string }) => store.has(cid.toString()),
  };
  const cids = new Map<string, string>();
  const opts = { cidVersion: 0 as const, rawLeaves: false, shardSplitThreshold: 1000, wrapWithDirectory: false };
  for await (const r of importer([{ path: TOP }, ...source], blockstore as never, opts)) {
    const rel = r.path === TOP ? '' : (r.path ?? '').slice(TOP.length + 1);
    cids.set(rel, CID.decode(r.cid.bytes).toString());
  }
  if (!cids.has('')) throw new Error(`the importer did not report the root folder ${TOP}`);

  // Hand-built nodes, grouped by their folder.
  const byFolder = new Map<string, Array<{ name: string; cid: CID; size: number }>>();
  for (const i of items) {
    if (!manual(i)) continue;
    const unixfs =
      i.kind === 'symlink'
        ? new UnixFS({ type: 'symlink', data: new TextEncoder().encode(await readlink(join(dir, i.rel))) })
        : new UnixFS({ type: 'file', data: await readFile(join(dir, i.rel)), mode: META_MODE, mtime: { secs: BigInt(META_MTIME_SECS), nsecs: 0 } });
    const { bytes } = await leafBlock(unixfs);
    const cid = await putLocal(bytes);
    cids.set(i.rel, cid.toString());
    const slash = i.rel.lastIndexOf('/');
    const parent = slash < 0 ? '' : i.rel.slice(0, slash);
    const list = byFolder.get(parent) ?? [];
    list.push({ name: i.rel.slice(slash + 1), cid, size: bytes.length });
    byFolder.set(parent, list);
  }
  for (const i of items) {
    if (i.kind === 'dir' && !cids.has(i.rel) && !byFolder.has(i.rel)) byFolder.set(i.rel, []);
  }

  // Rebuild each touched folder and its ancestors, deepest first.
  const pending = new Map(byFolder);
  const order = [...new Set([...byFolder.keys()].flatMap(ancestorsAndSelf))].sort((x, y) => depth(y) - depth(x));
  for (const folder of order) {
    const old = cids.get(folder);
    const node = old ? dagPb.decode(getLocal(old)) : { Data: new UnixFS({ type: 'directory' }).marshal(), Links: [] };
    const data = node.Data ? UnixFS.unmarshal(node.Data) : undefined;
    if (data?.type !== 'directory') throw new Error(`fixture folder ${folder} is ${data?.type ?? 'not UnixFS'}; hand-built nodes go in plain folders only`);
    const links = new Map(node.Links.map((l) => [l.Name ?? '', l] as const));
    for (const add of pending.get(folder) ?? []) {
      links.set(add.name, { Name: add.name, Hash: add.cid as unknown as dagPb.PBLink['Hash'], Tsize: add.size });
    }
    const bytes = dagPb.encode(dagPb.prepare({ Data: node.Data, Links: [...links.values()] }));
    const cid = await putLocal(bytes);
    cids.set(folder, cid.toString());
    if (folder !== '') {
      const slash = folder.lastIndexOf('/');
      const parent = slash < 0 ? '' : folder.slice(0, slash);
      const list = pending.get(parent) ?? [];
      const tsize = bytes.length + [...links.values()].reduce((n, l) => n + (l.Tsize ?? 0), 0);
      list.push({ name: folder.slice(slash + 1), cid, size: tsize });
      pending.set(parent, list);
    }
  }

  const rootCid = cids.get('') ?? '';
  const root = CID.parse(rootCid);
  async function* car(): AsyncIterable<Uint8Array> {
    const header = dagCbor.encode({ version: 1, roots: [root] });
    yield varint(header.length);
    yield header;
    for (const b of store.values()) {
      yield varint(b.cid.bytes.length + b.bytes.length);
      yield b.cid.bytes;
      yield b.bytes;
    }
  }
  for await (const r of client.dag.import([car()], { pinRoots: true })) {
    if (r.root.pinErrorMsg) throw new Error(`pinning the fixture root failed: ${r.root.pinErrorMsg}`);
  }
  return { rootCid, cids };
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

function depth(p: string): number {
  return p === '' ? 0 : p.split('/').length;
}

function ancestorsAndSelf(p: string): string[] {
  const out = [p];
  while (p !== '') {
    const slash = p.lastIndexOf('/');
    p = slash < 0 ? '' : p.slice(0, slash);
    out.push(p);
  }
  return out;
}

/** UnixFS type of a node on the peer (e.g. "hamt-sharded-directory"), read from its block. */
export async function unixfsType(client: KuboRPCClient, cid: string): Promise<string> {
  const node = dagPb.decode(await client.block.get(asClientCid(CID.parse(cid))));
  return node.Data ? UnixFS.unmarshal(node.Data).type : 'none';
}

/** kubo-rpc-client and @ipld/dag-pb pin different multiformats copies; the CID is the same. */
function asClientCid(cid: CID): Parameters<KuboRPCClient['block']['get']>[0] {
  return cid as unknown as Parameters<KuboRPCClient['block']['get']>[0];
}
