import { randomBytes, randomInt } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listingCacheDir } from '../src-main/ipfs/ListingStore.ts';
import { startIpfsPeer, type IpfsPeer } from '../test/helpers/ipfsPeer.ts';
import { dropCaches, load, mibps, run, summarize, timePair } from './lib/measure.ts';
import { cpuMs, foregroundMount, type ForegroundMount } from './lib/proc.ts';
import type { Row } from './lib/report.ts';

// Issue 2's benchmark: the ipfs guest through FUSE against kubo-rpc-client talking to
// the same node, in the same run. The peer is js-ipfs 0.66 (the Kubo RPC API; PEERS.md).

const FILE_MIB = Number(process.env.BENCH_FILE_MIB ?? 256);
const DIR_ENTRIES = 5_000;
const RANDOM_READS = 1_000;
/** `BENCH_IPFS_ROWS=list` runs only the listing rows (with BENCH_FILE_MIB=1 the file added is small too). */
const ONLY_LIST = process.env.BENCH_IPFS_ROWS === 'list';

async function writeRandomFile(path: string, mib: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let i = 0; i < mib; i++) await fh.write(randomBytes(1 << 20));
  } finally {
    await fh.close();
  }
}

async function drain(iter: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of iter) n += chunk.byteLength;
  return n;
}

/** Runs the IPFS-over-FUSE comparisons; returns table rows and notes on where time goes. */
export async function benchIpfsFuse(runs: number): Promise<{ rows: Row[]; notes: string[] }> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-'));
  const mnt = join(work, 'mnt');
  await mkdir(mnt);
  let peer: IpfsPeer | undefined;
  let mount: ForegroundMount | undefined;
  const rows: Row[] = [];
  const notes: string[] = [];
  // The mounts keep folder listings under the bench's own cache folder, never the user's.
  const cacheHome = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = join(work, 'cache');
  try {
    peer = await startIpfsPeer();
    const client = peer.client;
    const src = join(work, 'big.bin');
    await writeRandomFile(src, FILE_MIB);
    const { cid } = await client.add(createReadStream(src));
    const size = FILE_MIB << 20;
    const files = Array.from({ length: DIR_ENTRIES }, (_, i) => ({ path: `dir/entry-${String(i).padStart(5, '0')}.txt`, content: `file ${i}\n` }));
    let dirCid = '';
    // HAMT-sharded like issue 2's fixture folder: shardSplitThreshold is js-ipfs's
    // per-folder entry count (Kubo shards by size on its own).
    const addOpts = { shardSplitThreshold: 1000 } as Parameters<typeof client.addAll>[1];
    for await (const r of client.addAll(files, addOpts)) if (r.path === 'dir') dirCid = r.cid.toString();

    const mountArgs = ['fuse', 'ipfs', '--ipfs-api', peer.apiMultiaddr];
    mount = await foregroundMount(mountArgs, mnt);
    const fusePath = join(mnt, cid.toString());
    const peerPid = peer.pid ?? 0;

    const per = (total: number): string => (total / (runs + 1)).toFixed(0);
    if (!ONLY_LIST) {
      // 1. Sequential read of the whole file, page cache dropped before every run. CPU is
      // counted for the timed runs only: the untimed first one is the first read of the file
      // since it was added, FUSE side first, and carries the peer's cold start (its JIT for
      // block/get), which made the peer look as if it spent far more CPU on block/gets than
      // on a cat (issue 11).
      let berthCpu = 0;
      let peerCpuFuse = 0;
      let peerCpuRpc = 0;
      let seqFuseRuns = 0;
      let seqRpcRuns = 0;
      const [seqFuse, seqRpc] = await timePair(
        async () => {
          const [b0, p0] = [await cpuMs(mount!.child.pid!), await cpuMs(peerPid)];
          await run('sh', ['-c', `cat '${fusePath}' > /dev/null`]);
          if (seqFuseRuns++ === 0) return;
          berthCpu += (await cpuMs(mount!.child.pid!)) - b0;
          peerCpuFuse += (await cpuMs(peerPid)) - p0;
        },
        async () => {
          const p0 = await cpuMs(peerPid);
          const n = await drain(client.cat(cid));
          if (n !== size) throw new Error(`cat returned ${n} bytes, expected ${size}`);
          if (seqRpcRuns++ === 0) return;
          peerCpuRpc += (await cpuMs(peerPid)) - p0;
        },
        { runs, before: dropCaches },
      );
      rows.push({
        what: `sequential read, ${FILE_MIB} MiB file, cold page cache`,
        berth: '`cat` through the FUSE mount',
        peer: 'kubo-rpc-client `cat` in-process',
        berthMs: seqFuse,
        peerMs: seqRpc,
        ratio: seqRpc.median / seqFuse.median,
        goal: '≥ 1.0×',
        extra: `${mibps(size, seqFuse.median).toFixed(0)} vs ${mibps(size, seqRpc.median).toFixed(0)} MiB/s`,
      });
      const perTimed = (total: number): string => (total / runs).toFixed(0);
      notes.push(
        `Sequential read, CPU per timed run: Berth's FUSE process ${perTimed(berthCpu)} ms and the IPFS peer ${perTimed(peerCpuFuse)} ms through FUSE; the peer ${perTimed(peerCpuRpc)} ms for a plain RPC cat. ` +
          'The peer serving the bytes is the larger share; Berth reads the file a block at a time (block/get, 8 MiB ahead for a sequential reader, every block checked against its CID) and answers the kernel\'s reads from those blocks.',
      );

      // 1b. The same file again without dropping the cache: immutable content is kept by the kernel.
      const [warmFuse, warmRpc] = await timePair(
        () => run('sh', ['-c', `cat '${fusePath}' > /dev/null`]),
        () => drain(client.cat(cid)),
        { runs },
      );
      rows.push({
        what: `sequential re-read, ${FILE_MIB} MiB file, warm`,
        berth: '`cat` through the FUSE mount (kernel_cache)',
        peer: 'kubo-rpc-client `cat` in-process',
        berthMs: warmFuse,
        peerMs: warmRpc,
        ratio: warmRpc.median / warmFuse.median,
        extra: `${mibps(size, warmFuse.median).toFixed(0)} vs ${mibps(size, warmRpc.median).toFixed(0)} MiB/s`,
      });

      // 2. 1,000 random 4 KiB reads, one at a time, at the same offsets on both sides.
      const offsets = Array.from({ length: RANDOM_READS }, () => randomInt(0, (size >> 12) - 1) << 12);
      const offsetsFile = join(work, 'offsets.txt');
      const fh = await open(offsetsFile, 'w');
      await fh.write(offsets.join('\n') + '\n');
      await fh.close();
      const [rndFuse, rndRpc] = await timePair(
        () =>
          run('fio', [
            '--name=rand',
            `--filename=${fusePath}`,
            '--readonly',
            '--rw=randread',
            '--bs=4k',
            '--direct=1',
            '--ioengine=psync',
            '--iodepth=1',
            `--size=${size}`,
            `--number_ios=${RANDOM_READS}`,
            '--randrepeat=0',
            '--output=/dev/null',
          ]),
        async () => {
          for (const offset of offsets) await drain(client.cat(cid, { offset, length: 4096 }));
        },
        { runs },
      );
      rows.push({
        what: `${RANDOM_READS} random 4 KiB reads, one at a time`,
        berth: '`fio --direct=1 --rw=randread` on the FUSE mount',
        peer: 'kubo-rpc-client `cat` with offset/length',
        berthMs: rndFuse,
        peerMs: rndRpc,
        ratio: rndRpc.median / rndFuse.median,
        extra: `${((RANDOM_READS * 1000) / rndFuse.median).toFixed(0)} vs ${((RANDOM_READS * 1000) / rndRpc.median).toFixed(0)} reads/s`,
      });

    }

    // 3. Listing a 5,000-entry (sharded) folder with attributes, fresh mount every run, against
    // the node's own `ls` of it. Twice: with the folder listings kept on disk by CID
    // (ListingStore.ts) emptied before every run (the first listing ever: the guest asks the
    // node's `ls`, as the peer side does), and kept from an earlier listing (a remount, or any
    // other mount of the same CID: the node is not asked for the listing).
    const keptListings = listingCacheDir();
    for (const cache of ['cold', 'warm'] as const) {
      let lsBerthCpu = 0;
      let lsPeerCpuFuse = 0;
      let lsPeerCpuRpc = 0;
      const lsLoad = load();
      const fresh = async (): Promise<void> => {
        await mount?.stop();
        if (cache === 'cold') await rm(keptListings, { recursive: true, force: true });
        mount = await foregroundMount(mountArgs, mnt);
      };
      const [lsFuse, lsRpc] = await timePair(
        async () => {
          const [b0, p0] = [await cpuMs(mount!.child.pid!), await cpuMs(peerPid)];
          await run('sh', ['-c', `ls -l '${join(mnt, dirCid)}' > /dev/null`]);
          lsBerthCpu += (await cpuMs(mount!.child.pid!)) - b0;
          lsPeerCpuFuse += (await cpuMs(peerPid)) - p0;
        },
        async () => {
          const p0 = await cpuMs(peerPid);
          let n = 0;
          for await (const _ of client.ls(dirCid)) n++;
          if (n !== DIR_ENTRIES) throw new Error(`ls returned ${n} entries`);
          lsPeerCpuRpc += (await cpuMs(peerPid)) - p0;
        },
        { runs, before: fresh },
      );
      rows.push({
        what: `list ${DIR_ENTRIES.toLocaleString('en')}-entry folder with attributes, fresh mount, ${cache === 'cold' ? 'no listing kept (first listing ever)' : 'listing kept on disk from an earlier mount'}`,
        berth: '`ls -l` on the FUSE mount',
        peer: 'kubo-rpc-client `ls`',
        berthMs: lsFuse,
        peerMs: lsRpc,
        ratio: lsRpc.median / lsFuse.median,
        goal: '≥ 1.0×',
        extra: `listing cache ${cache}; load ${lsLoad}–${load()}`,
      });
      // Where the time goes: the same fresh mount listed by plain `ls` (one readdir, no
      // getxattr), so `ls -l` minus `ls` is what its 10,000 getxattr and 5,000 statx cost.
      const names: number[] = [];
      for (let i = 0; i < 3; i++) {
        await fresh();
        const t0 = performance.now();
        await run('sh', ['-c', `ls '${join(mnt, dirCid)}' > /dev/null`]);
        names.push(performance.now() - t0);
      }
      const plain = summarize(names).median;
      notes.push(
        `Listing with the listing cache ${cache}, per run: Berth's FUSE process used ${per(lsBerthCpu)} ms CPU and the IPFS peer ${per(lsPeerCpuFuse)} ms for \`ls -l\`; the peer ${per(lsPeerCpuRpc)} ms for the RPC \`ls\`. ` +
          `Plain \`ls\` of a fresh mount (median of 3) took ${plain.toFixed(0)} ms, so the getxattr and statx calls of \`ls -l\` cost ~${Math.max(0, lsFuse.median - plain).toFixed(0)} ms. ` +
          (cache === 'cold'
            ? 'The ipfs guest asks the node\'s own `ls` once, whole (the node types every child by fetching it), as the peer side does, and keeps the answer on disk by the folder\'s CID. '
            : 'The listing comes from the file kept by the folder\'s CID (checksummed, ~0.5 MB); the node is asked only for the folder\'s own block. ') +
          'Each run is a new mount in a new process (cold JIT).',
      );
    }
    return { rows, notes };
  } finally {
    await mount?.stop().catch(() => {});
    await peer?.stop().catch(() => {});
    await rm(work, { recursive: true, force: true });
    if (cacheHome === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = cacheHome;
  }
}
