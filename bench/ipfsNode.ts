import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connectNode } from '../src-main/ipfs/discover.ts';
import { startIpfsPeer, type IpfsPeer } from '../test/helpers/ipfsPeer.ts';
import { dropCaches, mibps, run, timePair } from './lib/measure.ts';
import { foregroundMount, type ForegroundMount } from './lib/proc.ts';
import type { Row } from './lib/report.ts';

// Issue 10's benchmark: the embedded node read through FUSE against the js-ipfs peer's
// RPC cat of the same file, and MFS writes through FUSE (a cp of one big file, an untar
// of 5,000 small ones) against kubo-rpc-client `files.write` of the same data, in the
// same run. A cp or untar into the MFS mount is timed until `getfattr user.ipfs.cid` of
// what it wrote answers: `close` hands files to the mount's put queue and returns, and the
// CID is read only once every put at or below that path is in MFS.

const FILE_MIB = Number(process.env.BENCH_FILE_MIB ?? 256);
const SMALL_FILES = Number(process.env.BENCH_SMALL_FILES ?? 5000);
/** Untar runs are long (thousands of RPCs per run): fewer of them. */
const UNTAR_RUNS = Number(process.env.BENCH_UNTAR_RUNS ?? 1);
/** Kubo's current import defaults, for the peer's side. */
const IMPORT = { cidVersion: 1, rawLeaves: true, chunker: 'size-1048576' } as const;

async function writeRandomFile(path: string, mib: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let i = 0; i < mib; i++) await fh.write(randomBytes(1 << 20));
  } finally {
    await fh.close();
  }
}

/** Returns once everything at or below `path` in an MFS mount is in MFS (the guest waits for its puts before it answers). */
async function inMfs(path: string): Promise<void> {
  await run('getfattr', ['--only-values', '-n', 'user.ipfs.cid', path]);
}

async function drain(iter: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of iter) n += chunk.byteLength;
  return n;
}

/** Runs the embedded-node and MFS comparisons. */
export async function benchIpfsNode(runs: number): Promise<{ rows: Row[]; notes: string[] }> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-node-'));
  const rows: Row[] = [];
  const notes: string[] = [];
  const mounts: ForegroundMount[] = [];
  let peer: IpfsPeer | undefined;
  // the foreground mounts are child processes that read these
  const savedEnv = { data: process.env.XDG_DATA_HOME, cache: process.env.XDG_CACHE_HOME };
  process.env.XDG_DATA_HOME = join(work, 'data');
  process.env.XDG_CACHE_HOME = join(work, 'cache');
  try {
    peer = await startIpfsPeer();
    const client = peer.client;
    const src = join(work, 'big.bin');
    await writeRandomFile(src, FILE_MIB);
    const size = FILE_MIB << 20;
    const peerCid = (await client.add(createReadStream(src), IMPORT)).cid.toString();
    const embedded = await connectNode('embedded', { gateways: [], offline: true });
    const added = await embedded.add(src, { signal: AbortSignal.timeout(600_000) });

    // 1. the embedded node's blocks through FUSE vs the peer's RPC cat
    const nsMnt = join(work, 'ns');
    await mkdir(nsMnt);
    const ns = await foregroundMount(['fuse', 'ipfs', '--ipfs-api', 'embedded'], nsMnt);
    mounts.push(ns);
    const [fuseCat, rpcCat] = await timePair(
      async () => run('sh', ['-c', `cat '${join(nsMnt, added.cid)}' > /dev/null`]),
      async () => {
        const n = await drain(client.cat(peerCid));
        if (n !== size) throw new Error(`cat returned ${n} bytes, expected ${size}`);
      },
      { runs, before: dropCaches },
    );
    rows.push({
      what: `sequential read, ${FILE_MIB} MiB file, cold page cache`,
      berth: '`cat` through FUSE, embedded node (blocks on local disk)',
      peer: 'js-ipfs RPC `cat` (kubo-rpc-client)',
      berthMs: fuseCat,
      peerMs: rpcCat,
      ratio: rpcCat.median / fuseCat.median,
      goal: '≥ 1.0×',
      extra: `${mibps(size, fuseCat.median).toFixed(0)} vs ${mibps(size, rpcCat.median).toFixed(0)} MiB/s; same bytes, CIDs ${added.cid === peerCid ? 'equal' : 'differ'}`,
    });

    // 2. MFS: one big file in, through FUSE (until close returns) vs files.write
    for (const [label, node] of [
      ['js-ipfs peer', peer.apiMultiaddr],
      ['embedded node', 'embedded'],
    ] as const) {
      const mnt = join(work, `mfs-${label.split(' ')[0]}`);
      await mkdir(mnt);
      const m = await foregroundMount(['fuse', 'mfs', '--ipfs-api', node, '--path', '/'], mnt);
      mounts.push(m);
      let i = 0;
      let j = 0;
      const [cp, write] = await timePair(
        async () => {
          const dest = join(mnt, `cp-${label.split(' ')[0]}-${i++}.bin`);
          await run('cp', [src, dest]);
          await inMfs(dest);
        },
        async () => client.files.write(`/bench-write-${label.split(' ')[0]}-${j++}.bin`, createReadStream(src), { create: true, ...IMPORT }),
        { runs },
      );
      rows.push({
        what: `MFS: cp of a ${FILE_MIB} MiB file into the mount (${label})`,
        berth: '`cp` through FUSE, until in MFS (its CID read)',
        peer: 'kubo-rpc-client `files.write` to the js-ipfs peer',
        berthMs: cp,
        peerMs: write,
        ratio: write.median / cp.median,
        goal: '≥ 0.8×',
        extra: `${mibps(size, cp.median).toFixed(0)} vs ${mibps(size, write.median).toFixed(0)} MiB/s`,
      });

      // 3. untar of many small files
      const tree = join(work, 'small');
      if (!(await readdir(work)).includes('small.tar')) {
        await mkdir(tree, { recursive: true });
        for (let k = 0; k < SMALL_FILES; k++) await writeFile(join(tree, `f${String(k).padStart(5, '0')}.txt`), `small file ${k}\n`.repeat(1 + (k % 20)));
        await run('tar', ['cf', join(work, 'small.tar'), '-C', work, 'small']);
      }
      const names = (await readdir(tree)).sort();
      let u = 0;
      let w = 0;
      const [untar, writes] = await timePair(
        async () => {
          const dest = join(mnt, `untar-${u++}`);
          await mkdir(dest);
          await run('tar', ['xf', join(work, 'small.tar'), '-C', dest]);
          await inMfs(dest);
        },
        async () => {
          const dir = `/bench-files-${label.split(' ')[0]}-${w++}`;
          for (const n of names) await client.files.write(`${dir}/small/${n}`, createReadStream(join(tree, n)), { create: true, parents: true, ...IMPORT });
        },
        { runs: UNTAR_RUNS, warmup: 0 },
      );
      rows.push({
        what: `MFS: untar of ${SMALL_FILES} small files (${label})`,
        berth: '`tar xf` through FUSE, until in MFS (the folder\'s CID read)',
        peer: 'kubo-rpc-client `files.write` per file, one after another',
        berthMs: untar,
        peerMs: writes,
        ratio: writes.median / untar.median,
        goal: '≥ 0.8×',
        extra: `${((SMALL_FILES / untar.median) * 1000).toFixed(0)} vs ${((SMALL_FILES / writes.median) * 1000).toFixed(0)} files/s`,
      });
    }
    notes.push(
      'The embedded node reads blocks with one readFile each from its blockstore-fs folder and @helia/unixfs streams them; the js-ipfs peer answers an HTTP `cat` from its own blockstore.',
      'MFS writes go to a local cache file at disk speed; the last `close` hands the file to the mount\'s put queue, which waits up to 50 ms for more (a commit interval) and puts the batch with its modes and mtimes: on the js-ipfs peer one wrapped `add` and one `files/cp` per folder, on the embedded node one tree write; a new file in a folder the mount made needs no lookup RPC (mfsFreshDirs.ts). The peer\'s own path is one `files/write` per file.',
      `The untar rows are ${UNTAR_RUNS} run(s) each (no warm-up): thousands of RPCs per run.`,
    );
    await embedded.close();
  } finally {
    for (const m of mounts.reverse()) await m.stop().catch(() => undefined);
    await peer?.stop();
    if (savedEnv.data === undefined) delete process.env.XDG_DATA_HOME;
    else process.env.XDG_DATA_HOME = savedEnv.data;
    if (savedEnv.cache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedEnv.cache;
    await rm(work, { recursive: true, force: true });
  }
  return { rows, notes };
}
