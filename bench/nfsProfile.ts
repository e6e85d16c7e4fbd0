import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join, resolve } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { startGanesha, type Ganesha } from '../test/helpers/ganesha.ts';
import { run } from './lib/measure.ts';
import { scratchExt4, type ScratchDir } from './lib/scratchFs.ts';
import { cpuSplitMs, foregroundMount, listenerPid, type ForegroundMount } from './lib/proc.ts';
import { startRpcCounter, type RpcCounter } from '../test/helpers/rpcCount.ts';

// Profiling aid for the NFS host (not part of `npm run bench`): runs issue 9's workloads
// through Berth's FUSE NFS client against Berth's NFS host and nfs-ganesha, one after the
// other, and prints each workload's wall time and the CPU (user and system) of the serving
// process and of the FUSE NFS client. With
// BERTH_RPC_STATS=<file> the host appends per-procedure counts and time per workload
// (RpcStats.ts); NFS_PROFILE_CPUPROF=<dir> runs the host under `node --cpu-prof`;
// NFS_PROFILE_COUNT=1 puts a counting proxy between the client and each server and prints
// the calls the client sent per workload, with the time each waited (test/helpers/rpcCount.ts);
// NFS_PROFILE_NODE_ARGS="..." adds node options to the host (e.g. --perf-basic-prof for `perf record -p`);
// NFS_PROFILE_PERF=<dir> samples each server's on-CPU stacks per workload there (`perf record -g`;
// read with `perf report -i <dir>/du-berth.data`; with --perf-basic-prof in NFS_PROFILE_NODE_ARGS for JS names;
// NFS_PROFILE_PERF_ARGS replaces `-F 4999 -g`, e.g. `-e raw_syscalls:sys_enter,raw_syscalls:sys_exit` for each system call's times);
// bench/serverTurns.ts reads the latter: how long the server held each call;
// NFS_PROFILE_STRACE=<dir> counts each server's system calls per workload there (`strace -c -f`);
// NFS_PROFILE_PIN=<cpu list> keeps every thread of both servers on those CPUs (taskset), so
// neither gains from where the scheduler puts it (bench/nfsRoundTrip.ts shows why it matters),
// and NFS_PROFILE_PIN_CLIENT=<cpu list> the FUSE NFS clients, this script and its tar, find, … there;
// NFS_PROFILE_TIMELINE=<dir> (with NFS_PROFILE_COUNT=1) writes every call as `name start-µs end-µs` there, per workload and side;
// NFS_PROFILE_SIDES=ganesha,berth runs ganesha first (default berth,ganesha);
// NFS_PROFILE_SETTLE_MS=1100 waits that long before each side's find and du (the client's cache expired, as bench/writable.ts does);
// NFS_PROFILE_HOST_LOG=<file> keeps the host's output there (e.g. with NFS_PROFILE_NODE_ARGS=--trace-gc);
// NFS_PROFILE_SCRATCH=1 puts both exported folders on a fresh journaled ext4, as `npm run bench` does
// (lib/scratchFs.ts: on this machine's `/`, creates right after removals are several times slower).
// Usage: npx tsx bench/nfsProfile.ts [workload ...]   (untar find du rm fio; default all)

const LAUNCHER = resolve(import.meta.dirname, '../src-main/cli/berth.cjs');

async function main(): Promise<void> {
  const want = new Set(process.argv.slice(2).length ? process.argv.slice(2) : ['untar', 'find', 'du', 'rm', 'fio']);
  const sides = (process.env.NFS_PROFILE_SIDES ?? 'berth,ganesha').split(',');
  const scratch: ScratchDir | undefined = process.env.NFS_PROFILE_SCRATCH === '1' ? await scratchExt4(4) : undefined;
  if (scratch) console.log(`exports on ${scratch.what}`);
  // From here on every way out removes the scratch file system (and its loop mount).
  const work = await mkdtemp(join(scratch?.dir ?? tmpdir(), 'berth-nfsprof-')).catch(async (err: unknown) => {
    await scratch?.dispose().catch(() => {});
    throw err;
  });
  const tar = join(work, 'doc.tar');
  const mounts: ForegroundMount[] = [];
  let ganesha: Ganesha | undefined;
  let host: ReturnType<typeof spawn> | undefined;
  const counters: RpcCounter[] = [];
  const via = async (port: number): Promise<{ port: number; counter?: RpcCounter }> => {
    if (process.env.NFS_PROFILE_COUNT !== '1') return { port };
    const counter = await startRpcCounter(port);
    counters.push(counter);
    return { port: counter.port, counter };
  };
  try {
    await run('tar', ['cf', tar, '-C', '/usr/share', 'doc']);
    const targets: { name: string; mnt: string; pid: number; client: number; counter?: RpcCounter }[] = [];
    if (sides.includes('berth')) {
      const src = join(work, 'b-src');
      const mnt = join(work, 'b-mnt');
      await mkdir(src);
      await mkdir(mnt);
      const flags = [...(process.env.NFS_PROFILE_CPUPROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.NFS_PROFILE_CPUPROF}`] : []), ...(process.env.NFS_PROFILE_NODE_ARGS ?? '').split(' ').filter(Boolean)];
      host = spawn(process.execPath, [...flags, LAUNCHER, 'mount', 'nfs', 'local', '--path', src, '--rw', '--nfs-no-root-squash', '--foreground', '/ip4/127.0.0.1/tcp/0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      const port = await new Promise<number>((res, rej) => {
        const on = (b: Buffer): void => {
          log += b.toString();
          const m = /^\s*port: (\d+)$/m.exec(log);
          if (m && log.includes('press Ctrl-C')) res(Number(m[1]));
        };
        host!.stdout!.on('data', on);
        host!.stderr!.on('data', on);
        host!.once('exit', () => rej(new Error(log)));
      });
      if (process.env.NFS_PROFILE_HOST_LOG) {
        const log = createWriteStream(process.env.NFS_PROFILE_HOST_LOG);
        host.stdout!.pipe(log);
        host.stderr!.pipe(log);
      }
      const front = await via(port);
      const m = await foregroundMount(['fuse', 'nfs', '--nfs-server', `/ip4/127.0.0.1/tcp/${front.port}`, '--nfs-export', '/', '--rw'], mnt);
      mounts.push(m);
      targets.push({ name: 'berth', mnt, pid: host.pid!, client: m.child.pid!, counter: front.counter });
    }
    if (sides.includes('ganesha')) {
      const src = join(work, 'g-src');
      const mnt = join(work, 'g-mnt');
      await mkdir(src);
      await mkdir(mnt);
      ganesha = await startGanesha(src);
      const front = await via(ganesha.nfsPort);
      const m = await foregroundMount(['fuse', 'nfs', '--nfs-server', `/ip4/127.0.0.1/tcp/${front.port}`, '--nfs-export', ganesha.exportPath, '--nfs-mount-port', String(ganesha.mountPort), '--rw'], mnt);
      mounts.push(m);
      targets.push({ name: 'ganesha', mnt, pid: listenerPid(ganesha.nfsPort)!, client: m.child.pid!, counter: front.counter });
    }
    const pin = async (cpus: string | undefined, pids: number[]): Promise<void> => {
      if (cpus) for (const pid of pids) await run('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
    };
    // The sides run each workload in NFS_PROFILE_SIDES' order.
    targets.sort((x, y) => sides.indexOf(x.name) - sides.indexOf(y.name));
    await pin(process.env.NFS_PROFILE_PIN, targets.map((t) => t.pid));
    await pin(process.env.NFS_PROFILE_PIN_CLIENT, [...targets.map((t) => t.client), process.pid]);
    const settleMs = Number(process.env.NFS_PROFILE_SETTLE_MS ?? 0);
    const step = async (what: string, fn: (mnt: string) => Promise<unknown>, settle = false): Promise<void> => {
      for (const t of targets) {
        if (settle && settleMs > 0) await sleep(settleMs);
        t.counter?.reset();
        const [s0, k0] = [await cpuSplitMs(t.pid), await cpuSplitMs(t.client)];
        const strace = process.env.NFS_PROFILE_STRACE ? await attachStrace(t.pid, join(process.env.NFS_PROFILE_STRACE, `${what}-${t.name}.txt`)) : undefined;
        const perf = process.env.NFS_PROFILE_PERF ? await attachPerf(t.pid, join(process.env.NFS_PROFILE_PERF, `${what}-${t.name}.data`)) : undefined;
        const t0 = performance.now();
        await fn(t.mnt);
        const ms = performance.now() - t0;
        await strace?.();
        await perf?.();
        const [s1, k1] = [await cpuSplitMs(t.pid), await cpuSplitMs(t.client)];
        const used = (a: { user: number; sys: number }, b: { user: number; sys: number }): string =>
          `${(b.user - a.user + b.sys - a.sys).toFixed(0).padStart(5)} ms (user ${(b.user - a.user).toFixed(0)}, sys ${(b.sys - a.sys).toFixed(0)})`;
        // A stats report per workload (the host only handles SIGUSR2 with BERTH_RPC_STATS set: else it would end it).
        if (t.name === 'berth' && process.env.BERTH_RPC_STATS) host!.kill('SIGUSR2');
        console.log(`${what.padEnd(6)} ${t.name.padEnd(8)} wall ${ms.toFixed(0).padStart(6)} ms  server cpu ${used(s0, s1)}  client cpu ${used(k0, k1)}`);
        if (t.counter) console.log(t.counter.report());
        if (t.counter && process.env.NFS_PROFILE_TIMELINE) await writeFile(join(process.env.NFS_PROFILE_TIMELINE, `${what}-${t.name}.txt`), t.counter.timeline());
      }
    };
    const tree = (mnt: string): string => join(mnt, 't');
    for (const t of targets) await mkdir(tree(t.mnt), { recursive: true });
    if (want.has('untar')) await step('untar', (m) => run('tar', ['xf', tar, '-C', tree(m)]));
    else for (const t of targets) await run('tar', ['xf', tar, '-C', tree(t.mnt)]);
    // NFS_PROFILE_FIND_RUNS=n: find n times in a row (what the client's cache keeps between runs).
    const finds = Number(process.env.NFS_PROFILE_FIND_RUNS ?? 1);
    if (want.has('find')) for (let k = 0; k < finds; k++) await step('find', (m) => run('find', [tree(m)]), true);
    // NFS_PROFILE_DU_RUNS=n: du -s n times in a row, the later ones named du-2, du-3, … (with
    // NFS_PROFILE_SIDES=berth, within the local guest's 5 s bound on what inotify cannot see:
    // its attributes answered from memory).
    const dus = Number(process.env.NFS_PROFILE_DU_RUNS ?? 1);
    if (want.has('du')) for (let k = 0; k < dus; k++) await step(k ? `du-${k + 1}` : 'du', (m) => run('du', ['-s', tree(m)]), true);
    if (want.has('rm')) await step('rm', (m) => run('rm', ['-rf', tree(m)]));
    if (want.has('fio')) {
      await step('fio', (m) => run('fio', ['--name=rand', `--filename=${join(m, 'rand.bin')}`, '--rw=randrw', '--bs=4k', '--size=8m', '--number_ios=20000', '--ioengine=psync', '--randrepeat=1', '--output=/dev/null']));
    }
    for (const t of targets) if (existsSync(tree(t.mnt))) await run('rm', ['-rf', tree(t.mnt)]);
  } finally {
    for (const m of mounts) await m.stop().catch(() => {});
    for (const c of counters) await c.close();
    if (host) await interrupt(host);
    await ganesha?.stop().catch(() => {});
    await rm(work, { recursive: true, force: true }).catch(() => {});
    await scratch?.dispose().catch((err: unknown) => console.error(`could not remove the scratch file system ${scratch.dir}: ${String(err)}`));
  }
  if (process.env.BERTH_RPC_STATS) console.log(await readFile(process.env.BERTH_RPC_STATS, 'utf8').catch(() => ''));
}

/** Attaches `strace -c -f` to `pid`, writing its summary to `out`; resolves with a function that detaches it. */
async function attachStrace(pid: number, out: string): Promise<() => Promise<void>> {
  const s = spawn('strace', ['-c', '-f', '-o', out, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  // strace says "Process N attached with M threads" once it holds every thread.
  await new Promise<void>((resolve, reject) => {
    let said = '';
    s.stderr!.on('data', (b: Buffer) => {
      said += b.toString();
      if (/attached/.test(said)) resolve();
    });
    s.once('exit', () => reject(new Error(`strace did not attach to ${pid}: ${said.trim()}`)));
  });
  return () => interrupt(s);
}

/** Attaches `perf record -g` to `pid`, writing its samples to `out`; resolves with a function that stops it. */
async function attachPerf(pid: number, out: string): Promise<() => Promise<void>> {
  const args = (process.env.NFS_PROFILE_PERF_ARGS ?? '-F 4999 -g').split(' ').filter(Boolean);
  const p = spawn('perf', ['record', ...args, '-p', String(pid), '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  let failed: Error | undefined;
  p.stderr!.on('data', (b: Buffer) => (said += b.toString()));
  p.once('error', (e) => (failed = e)); // no perf installed (linux-perf)
  // perf says nothing once attached; give it a moment, and fail loudly when it ended already.
  await sleep(300);
  if (failed || p.exitCode !== null) throw new Error(`perf did not attach to ${pid}: ${failed?.message ?? said.trim()}`);
  return () => interrupt(p);
}

/** Sends SIGINT to `child` and waits until it has ended (at once when it has already). */
async function interrupt(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
}

await main();
