import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { startGanesha, type Ganesha } from '../test/helpers/ganesha.ts';
import { perRound, run, summarize, timePair, type Sample } from './lib/measure.ts';
import { scratchExt4, type ScratchDir } from './lib/scratchFs.ts';
import { cpuMs, foregroundMount, foregroundNfsHost, type ForegroundMount, type ForegroundNfsHost, listenerPid } from './lib/proc.ts';
import type { Row } from './lib/report.ts';

// Issue 9's benchmark: the write and metadata paths. (1) A local folder through Berth's
// FUSE host (`berth mount fuse local --rw`) against bindfs, the C FUSE passthrough, on the
// same tree; (2) a folder exported by Berth's NFS host against nfs-ganesha (VFS FSAL), both
// read and written through the same client: Berth's own NFS guest mounted with FUSE. The
// tree is /usr/share/doc as a tar; every workload runs on both sides alternately (ABBA),
// each half on a fresh journaled ext4 of its own (lib/scratchFs.ts says why not on `/`).

/** One side of a comparison: where to work, and how it is torn down. */
interface Side {
  mnt: string;
  stop(): Promise<void>;
  /** The process serving the mount, when one process does (its CPU per run is reported). */
  pid?: number;
}

/** The pid of the process whose command line is `argv` exactly (bindfs forks into the background: its pid is not ours). */
async function pidOf(argv: string[]): Promise<number | undefined> {
  const want = `${argv.join('\0')}\0`;
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const cmd = await readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => '');
    if (cmd === want) return Number(d);
  }
  return undefined;
}

/** Wraps a timed function so the CPU its side's serving process spent in each run is kept in `into` (ms). */
function withCpu(s: Side, fn: () => Promise<unknown>, into: number[]): () => Promise<void> {
  return async () => {
    const c0 = s.pid ? await cpuMs(s.pid) : 0;
    await fn();
    if (s.pid) into.push((await cpuMs(s.pid)) - c0);
  };
}

const tarOf = async (work: string): Promise<{ tar: string; entries: number }> => {
  const tar = join(work, 'doc.tar');
  await run('tar', ['cf', tar, '-C', '/usr/share', 'doc']);
  const list = await run('tar', ['tf', tar]);
  return { tar, entries: list.split('\n').filter(Boolean).length };
};

/**
 * How long each half waits before each find and du -s: past the life of what is kept
 * between the workload and the server (the kernel's entry and attribute timeouts, 1 s for
 * bindfs and for Berth's writable FUSE mounts; the FUSE NFS client's attributes and
 * listings, 1 s by default, `--cache-expiry`), so that every run starts from the same
 * state whatever ran before it. Without the wait a row measures the order of the runs: a
 * side whose previous run had ended more than a second before paid a call for every node,
 * the other side none (with ABBA order, a side runs twice in a row every other round).
 */
const CACHE_SETTLE_MS = 1_100;

/** A per-round ratio as the notes print it: median (min–max). */
const ratioText = (r: Sample): string => `${r.median.toFixed(2)}×, ${r.min.toFixed(2)}–${r.max.toFixed(2)}`;

/** The workloads of issue 9's table, each timed on two sides alternately; `settleMs`: a wait before each run of find and du -s. */
async function workloads(a: Side, b: Side, tar: string, runs: number, names: { berth: string; peer: string }, goal: { tree: string; writes: string }, settleMs: number): Promise<Row[]> {
  const rows: Row[] = [];
  const tree = (s: Side): string => join(s.mnt, 't');
  const clear = async (s: Side): Promise<void> => {
    await run('rm', ['-rf', tree(s)]);
    await mkdir(tree(s), { recursive: true });
  };
  const untar = (s: Side) => () => run('tar', ['xf', tar, '-C', tree(s)]);
  /** CPU of each side's serving process per run of the workload being timed (reset per row). */
  let cpu: [number[], number[]] = [[], []];
  const pair = (fa: () => Promise<unknown>, fb: () => Promise<unknown>, opts: Parameters<typeof timePair>[2]) => {
    cpu = [[], []];
    return timePair(withCpu(a, fa, cpu[0]), withCpu(b, fb, cpu[1]), opts);
  };
  const row = (what: string, g: string, [x, y]: Awaited<ReturnType<typeof timePair>>, extra = ''): Row => {
    const used = cpu[0].length && cpu[1].length ? `; serving process CPU per run (median) ${summarize(cpu[0]).median.toFixed(0)} ms vs the peer's ${summarize(cpu[1]).median.toFixed(0)} ms` : '';
    return {
      what, berth: names.berth, peer: names.peer, berthMs: x, peerMs: y, ratio: y.median / x.median,
      goal: g, extra: `${extra}${extra ? '; ' : ''}Berth ${(x.median / y.median).toFixed(2)}× the peer's time (per round ${ratioText(perRound(x, y))})${used}`,
    };
  };
  rows.push(row('untar /usr/share/doc', goal.tree, await pair(untar(a), untar(b), { runs, warmup: 0, before: async () => Promise.all([clear(a), clear(b)]).then(() => {}) })));
  // The tree stays for the readers.
  await Promise.all([clear(a), clear(b)]);
  await Promise.all([untar(a)(), untar(b)()]);
  const settle = (): Promise<void> => sleep(settleMs).then(() => {});
  rows.push(row('find', goal.tree, await pair(() => run('find', [tree(a)]), () => run('find', [tree(b)]), { runs, before: settle })));
  rows.push(row('du -s', goal.tree, await pair(() => run('du', ['-s', tree(a)]), () => run('du', ['-s', tree(b)]), { runs, before: settle })));
  rows.push(row('rm -rf', goal.tree, await pair(() => run('rm', ['-rf', tree(a)]), () => run('rm', ['-rf', tree(b)]), {
    runs, warmup: 0,
    // Untimed: the tree back on both sides before each removal.
    before: async () => {
      for (const s of [a, b]) if (!existsSync(join(tree(s), 'doc'))) {
        await mkdir(tree(s), { recursive: true });
        await untar(s)();
      }
    },
  })));
  // fsx-style: 20,000 random 4 KiB reads and writes on one 8 MiB file (fio, buffered).
  const fio = (s: Side) => () => run('fio', ['--name=rand', `--filename=${join(s.mnt, 'rand.bin')}`, '--rw=randrw', '--bs=4k', '--size=8m', '--number_ios=20000', '--ioengine=psync', '--randrepeat=1', '--output=/dev/null']);
  rows.push(row('20,000 random 4 KiB reads and writes, one 8 MiB file', goal.writes, await pair(fio(a), fio(b), { runs }), 'fio --rw=randrw --ioengine=psync'));
  return rows;
}

/** Runs the writable benchmark; rows and notes for bench/RESULTS.md. */
export async function benchWritable(runs: number): Promise<{ rows: Row[]; notes: string[] }> {
  // The tar is read from the page cache; each half works on a fresh file system of its own.
  const tarDir = await mkdtemp(join(tmpdir(), 'berth-bench-w-'));
  const scratches: ScratchDir[] = [];
  const freshFs = async (): Promise<string> => {
    const fs = await scratchExt4(4);
    scratches.push(fs);
    return fs.dir;
  };
  const sides: Side[] = [];
  const rows: Row[] = [];
  const notes: string[] = [];
  let ganesha: Ganesha | undefined;
  let nfsHost: ForegroundNfsHost | undefined;
  try {
    const { tar, entries } = await tarOf(tarDir);
    notes.push(`The tree: /usr/share/doc of this machine as a tar, ${entries} entries. Medians of ${runs} runs; Berth and its peer alternate (ABBA).`);
    // 1. FUSE: Berth's host over a local folder vs bindfs over another (BENCH_WRITABLE_FUSE=0 skips it).
    if (process.env.BENCH_WRITABLE_FUSE !== '0') await fuseHalf();
    async function fuseHalf(): Promise<void> {
      const work = await freshFs();
      const dirs = ['berth-src', 'bindfs-src', 'berth-mnt', 'bindfs-mnt'].map((d) => join(work, d));
      for (const d of dirs) await mkdir(d);
      const [bSrc, pSrc, bMnt, pMnt] = dirs as [string, string, string, string];
      const berth: ForegroundMount = await foregroundMount(['fuse', 'local', '--path', bSrc, '--rw'], bMnt);
      sides.push({ mnt: bMnt, stop: () => berth.stop(), ...(berth.child.pid ? { pid: berth.child.pid } : {}) });
      await run('bindfs', [pSrc, pMnt]);
      const bindfsPid = await pidOf(['bindfs', pSrc, pMnt]);
      sides.push({ mnt: pMnt, stop: () => run('fusermount', ['-u', pMnt]).then(() => {}), ...(bindfsPid ? { pid: bindfsPid } : {}) });
      const fuseHost = process.env.BERTH_FUSE === '2' ? 'fuse-native (libfuse 2)' : 'libfuse 3 low-level';
      rows.push(...(await workloads(sides[0]!, sides[1]!, tar, runs, { berth: `\`berth mount fuse local --rw\` (${fuseHost})`, peer: 'bindfs 1.14 (libfuse 2)' }, { tree: '≤ 1.5×', writes: '≤ 2×' }, CACHE_SETTLE_MS)));
      for (const s of sides.splice(0)) await s.stop();
    }

    // 2. NFS: Berth's NFS host vs ganesha, both through Berth's NFS client mounted with FUSE.
    if (process.env.BENCH_WRITABLE_NFS !== '0') {
      const work = await freshFs();
      const nSrc = join(work, 'nfs-berth-src');
      const gSrc = join(work, 'nfs-ganesha-src');
      const nMnt = join(work, 'nfs-berth-mnt');
      const gMnt = join(work, 'nfs-ganesha-mnt');
      for (const d of [nSrc, gSrc, nMnt, gMnt]) await mkdir(d);
      nfsHost = await foregroundNfsHost(['local', '--path', nSrc, '--rw', '--nfs-no-root-squash']);
      ganesha = await startGanesha(gSrc);
      const client = (server: string, exp: string, mountPort: number | undefined, mnt: string): Promise<ForegroundMount> =>
        foregroundMount(['fuse', 'nfs', '--nfs-server', server, '--nfs-export', exp, ...(mountPort ? ['--nfs-mount-port', String(mountPort)] : []), '--rw'], mnt);
      const ours = await client(`/ip4/127.0.0.1/tcp/${nfsHost.port}`, '/', undefined, nMnt);
      // The serving processes are the hosts, not the FUSE NFS clients: their CPU per run is reported.
      sides.push({ mnt: nMnt, stop: () => ours.stop(), pid: nfsHost.child.pid });
      const theirs = await client(`/ip4/127.0.0.1/tcp/${ganesha.nfsPort}`, ganesha.exportPath, ganesha.mountPort, gMnt);
      sides.push({ mnt: gMnt, stop: () => theirs.stop(), pid: listenerPid(ganesha.nfsPort) });
      rows.push(...(await workloads(sides[0]!, sides[1]!, tar, runs, { berth: 'Berth NFS host, through `berth mount fuse nfs`', peer: 'nfs-ganesha 4 (VFS FSAL), same client' }, { tree: '≤ 1.0×', writes: '≤ 1.0×' }, CACHE_SETTLE_MS)));
    }
    notes.push(`Each find and du -s starts ${CACHE_SETTLE_MS} ms after the run before it, when what the kernel (and the FUSE NFS client) keep for 1 s has expired on both sides alike.`);
    if (scratches[0]) notes.push(`Each half on ${scratches[0].what}.`);
    notes.push('"vs peer" is the peer\'s time ÷ Berth\'s (above 1×: Berth is faster); the notes give Berth\'s time as a multiple of the peer\'s, the form of issue 9\'s goals.');
    notes.push('"per round": Berth\'s time ÷ the peer\'s within each round (the two runs of a round follow each other, so a change of the machine\'s speed between rounds cancels), median (min–max) of the rounds.');
    return { rows, notes };
  } finally {
    for (const s of sides.splice(0)) await s.stop().catch(() => {});
    await nfsHost?.stop().catch(() => {});
    await ganesha?.stop().catch(() => {});
    for (const fs of scratches) await fs.dispose().catch((err: unknown) => console.error(`bench: could not remove the scratch file system ${fs.dir}: ${String(err)}`));
    await rm(tarDir, { recursive: true, force: true }).catch(() => {});
  }
}
