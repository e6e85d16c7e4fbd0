import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiClient, DaemonNotRunningError } from '../src-main/api/client.ts';
import { readMountInfo } from '../src-main/hosts/mountInfo.ts';
import type { MountSpec } from '../src-shared/mountSpec.ts';
import { run, samplePair, summarize } from './lib/measure.ts';
import { cpuMs, foregroundMount, rssMiB } from './lib/proc.ts';
import type { Row } from './lib/report.ts';

// Issue 3's benchmark: the mount table service (`berth daemon`) bringing up many
// auto-mounts from mounts.json, against the one-process-per-mount way Berth started
// with (`berth mount … --foreground`), in the same run. Guests are local folders over
// FUSE so the figures measure the service and the FUSE host, not an IPFS node.

const MANY = 50;
const IDLE = 10;
/** How long a mount sits idle before its memory is read (timers, GC settle). */
const IDLE_MS = 2_000;
const LAUNCHER = resolve(import.meta.dirname, '../src-main/cli/berth.cjs');

/** Mount points (as /proc/self/mountinfo shows them) under `base`. */
async function mountsUnder(base: string): Promise<string[]> {
  return (await readMountInfo()).map((m) => m.mountpoint).filter((mp) => mp === base || mp.startsWith(`${base}/`));
}

/** Lazily detaches whatever is still mounted under `base` (cleanup after a failure). */
async function detachAll(base: string): Promise<void> {
  for (const mp of (await mountsUnder(base)).reverse()) {
    try {
      execFileSync('fusermount', ['-uz', mp], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
}

/** Threads of `pid` blocked in a FUSE request (waiting for a FUSE process to answer). */
async function threadsInFuse(pid: number): Promise<number> {
  let n = 0;
  for (const t of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    if ((await readFile(`/proc/${pid}/task/${t}/wchan`, 'utf8').catch(() => '')).includes('request_wait_answer')) n++;
  }
  return n;
}

/**
 * Aborts the FUSE connections of the mounts under `base` (fusectl), which fails every
 * request still waiting on them. A process whose threads wait on FUSE requests only it
 * could answer never finishes exiting, even after SIGKILL; this frees it.
 */
async function abortFuseUnder(base: string): Promise<void> {
  const ctl = '/sys/fs/fuse/connections';
  let mounted = false;
  if ((await readdir(ctl).catch(() => [])).length === 0) {
    try {
      execFileSync('mount', ['-t', 'fusectl', 'none', ctl], { stdio: 'ignore' });
      mounted = true;
    } catch {
      return;
    }
  }
  for (const m of await readMountInfo()) {
    if (m.mountpoint !== base && !m.mountpoint.startsWith(`${base}/`)) continue;
    const minor = m.dev.split(':')[1];
    if (minor) await writeFile(`${ctl}/${minor}/abort`, '1').catch(() => undefined);
  }
  if (mounted) execFileSync('umount', [ctl], { stdio: 'ignore' });
}

/** SIGKILLs a child and waits for it to be gone, freeing it from FUSE requests to its own mounts if need be. */
async function killHard(child: ChildProcess, exited: Promise<void>, base: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
  if (!gone) {
    await abortFuseUnder(base);
    await exited;
  }
  await detachAll(base);
}

/** Newest modification time under `dir` (ms), 0 when it does not exist. */
function newestUnder(dir: string): number {
  let newest = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestUnder(p));
    else if (e.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** True when the launcher will run the CLI bundle (it is no older than the sources), as launcher.mjs decides. */
function bundleIsFresh(): boolean {
  const root = resolve(import.meta.dirname, '..');
  const bundle = join(root, 'out/cli/berth.mjs');
  if (!existsSync(bundle)) return false;
  const at = statSync(bundle).mtimeMs;
  return ['src-main', 'src-shared'].every((d) => newestUnder(join(root, d)) <= at);
}

/** A daemon that hung (not all mounted in time, or no clean stop); counted, not fatal. */
class DaemonStuck extends Error {
  constructor(
    message: string,
    readonly threadsInFuse: number,
    readonly log: string,
  ) {
    super(message);
  }
}

/** One `berth daemon` with its own XDG folders, started on a mounts.json of `count` auto-mounts. */
interface DaemonRun {
  child: ChildProcess;
  /** Spawn → the API first answered. */
  apiMs: number;
  /** Spawn → every mount reported `mounted` by the API. */
  mountedMs: number;
  /** Stops it (SIGINT: unmount everything) and checks nothing stayed mounted. */
  stop(): Promise<Shutdown>;
}

/** How a daemon's shutdown went, from its log's timestamps (ms after SIGINT). */
interface Shutdown {
  /** SIGINT → the process exited. */
  ms: number;
  /** SIGINT → the first and the last mount logged `unmounted`. */
  firstUnmountMs: number;
  lastUnmountMs: number;
}

/** Milliseconds after `t0` (epoch ms) of the first and last daemon log line matching `re`. */
function logSpan(log: string, re: RegExp, t0: number): [number, number] {
  const times = log
    .split('\n')
    .filter((l) => re.test(l))
    .map((l) => Date.parse(l.slice(0, 24)) - t0)
    .filter((t) => Number.isFinite(t));
  return [Math.min(...times), Math.max(...times)];
}

async function startDaemonRun(work: string, run: number, src: string, count: number): Promise<DaemonRun> {
  const base = join(work, `daemon-${run}`);
  const config = join(base, 'config', 'berth');
  const runtime = join(base, 'run');
  await mkdir(config, { recursive: true });
  await mkdir(runtime, { recursive: true, mode: 0o700 });
  const specs: MountSpec[] = [];
  for (let i = 0; i < count; i++) {
    const mountpoint = join(base, 'mnt', String(i).padStart(2, '0'));
    await mkdir(mountpoint, { recursive: true });
    specs.push({
      id: `m_bench${String(i).padStart(2, '0')}`,
      name: `bench ${i}`,
      host: { kind: 'fuse', mountpoint, readOnly: true, allowOther: false, options: [] },
      guest: { kind: 'local', path: src, readOnly: true },
      autoMount: true,
    });
  }
  await writeFile(join(config, 'mounts.json'), JSON.stringify({ version: 1, mounts: specs }, null, 2));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: join(base, 'config'),
    XDG_RUNTIME_DIR: runtime,
    XDG_STATE_HOME: join(base, 'state'),
    NODE_OPTIONS: '',
  };
  const client = new ApiClient({ socketPath: join(runtime, 'berth', 'api.sock') });
  const t0 = performance.now();
  const child = spawn(process.execPath, [LAUNCHER, 'daemon'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const kill = (): Promise<void> => killHard(child, exited, base);
  let apiMs = 0;
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`berth daemon exited early: ${log.slice(-2000)}`);
      if (Date.now() > deadline) {
        const up = (await mountsUnder(base)).length;
        const stuck = await threadsInFuse(child.pid!);
        throw new DaemonStuck(
          `${count} auto-mounts were not all mounted within 60 s (${up} in /proc/self/mountinfo)` +
            (stuck ? `; ${stuck} daemon thread(s) wait on FUSE requests to its own mounts (a deadlock)` : ''),
          stuck,
          log,
        );
      }
      try {
        const list = await client.list();
        if (!apiMs) apiMs = performance.now() - t0;
        const failed = list.find((m) => m.state === 'failed' || m.state === 'stale');
        if (failed) throw new Error(`auto-mount ${failed.id} ${failed.state}: ${failed.error?.message ?? ''}`);
        if (list.length === count && list.every((m) => m.state === 'mounted')) break;
      } catch (err) {
        if (!(err instanceof DaemonNotRunningError)) throw err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await kill();
    throw err;
  }
  const mountedMs = performance.now() - t0;
  const left = await mountsUnder(base);
  if (left.length !== count) {
    await kill();
    throw new Error(`the API said ${count} mounted, /proc/self/mountinfo shows ${left.length}`);
  }
  return {
    child,
    apiMs,
    mountedMs,
    async stop() {
      const s0 = performance.now();
      const sigintAt = Date.now();
      child.kill('SIGINT');
      const clean = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
      if (!clean) {
        const stuck = await threadsInFuse(child.pid!);
        await killHard(child, exited, base);
        await rm(base, { recursive: true, force: true });
        throw new DaemonStuck(`berth daemon did not stop within 30 s of SIGINT${stuck ? `; ${stuck} thread(s) waited on FUSE requests to its own mounts` : ''}`, stuck, log);
      }
      const ms = performance.now() - s0;
      const still = await mountsUnder(base);
      await detachAll(base);
      await rm(base, { recursive: true, force: true });
      if (child.exitCode !== 0) throw new Error(`berth daemon exited ${String(child.exitCode ?? child.signalCode)} on SIGINT: ${log.slice(-2000)}`);
      if (still.length) throw new Error(`after shutdown ${still.length} mount(s) stayed, e.g. ${still[0]}`);
      const [firstUnmountMs, lastUnmountMs] = logSpan(log, /Z unmounted m_/, sigintAt);
      return { ms, firstUnmountMs, lastUnmountMs };
    },
  };
}

/** Runs the mount table service comparisons; returns table rows and notes on where time goes. */
/** Runs the mount table service comparisons; returns table rows and notes on where time goes. */
export async function benchService(runs: number): Promise<{ rows: Row[]; notes: string[] }> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-svc-'));
  const src = join(work, 'src');
  const fgMnt = join(work, 'fg');
  await mkdir(join(src, 'sub'), { recursive: true });
  await mkdir(fgMnt);
  await writeFile(join(src, 'hello.txt'), 'hello\n');
  await writeFile(join(src, 'sub', 'data.bin'), Buffer.alloc(64 << 10, 7));
  const rows: Row[] = [];
  const notes: string[] = [];
  const live = new Set<{ stop(): Promise<unknown> }>();
  const med = (xs: number[]): string => summarize(xs.slice(1)).median.toFixed(0);
  let n = 0;
  try {
    const fgArgs = ['fuse', 'local', '--path', src, '--read-only'];
    // The foreground single mount: spawn → the kernel serves it; CPU so far; memory and CPU while idle.
    const foreground = async (idle: boolean): Promise<{ ms: number; rss: number; cpu: number; idleCpu: number }> => {
      const t0 = performance.now();
      const m = await foregroundMount(fgArgs, fgMnt);
      live.add(m);
      const ms = performance.now() - t0;
      const cpu = await cpuMs(m.child.pid!);
      if (idle) await new Promise((r) => setTimeout(r, IDLE_MS));
      const idleCpu = (await cpuMs(m.child.pid!)) - cpu;
      const rss = await rssMiB(m.child.pid!);
      await m.stop();
      live.delete(m);
      if ((await mountsUnder(fgMnt)).length) throw new Error(`${fgMnt} stayed mounted after the foreground mount stopped`);
      return { ms, rss, cpu, idleCpu };
    };

    // What every `berth` process pays before it does anything: Node, and the CLI's code
    // (the bundle when it is fresh, else tsx compiling the source; see launcher.mjs).
    const bundled = bundleIsFresh();
    const help: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const t0 = performance.now();
      await run(process.execPath, [LAUNCHER, '--help']);
      help.push(performance.now() - t0);
    }

    // 1. Daemon start → 50 auto-mounts mounted, against one foreground mount.
    const api: number[] = [];
    const rss50: number[] = [];
    const cpu50: number[] = [];
    const cpu1: number[] = [];
    const down: Shutdown[] = [];
    const stuck: DaemonStuck[] = [];
    /** Starts a daemon run; a hung one is counted (with its cause) instead of ending the section. */
    const daemonRun = async (count: number, body: (d: DaemonRun) => Promise<number>): Promise<number> => {
      let d: DaemonRun;
      try {
        d = await startDaemonRun(work, n++, src, count);
      } catch (err) {
        if (!(err instanceof DaemonStuck)) throw err;
        stuck.push(err);
        return NaN;
      }
      live.add(d);
      try {
        return await body(d);
      } catch (err) {
        if (!(err instanceof DaemonStuck)) throw err;
        stuck.push(err);
        return NaN;
      } finally {
        live.delete(d);
      }
    };
    const [many, one] = await samplePair(
      () =>
        daemonRun(MANY, async (d) => {
        api.push(d.apiMs);
          rss50.push(await rssMiB(d.child.pid!));
          cpu50.push(await cpuMs(d.child.pid!));
          down.push(await d.stop());
          return d.mountedMs;
        }),
      async () => {
        const r = await foreground(false);
        cpu1.push(r.cpu);
        return r.ms;
      },
      { runs },
    );
    if (many.runs.length === 0) throw new Error(`every daemon run hung: ${stuck[0]?.message ?? ''}\n${stuck[0]?.log.slice(-1500) ?? ''}`);
    const stuckMany = stuck.length;
    rows.push({
      what: `daemon start → ${MANY} auto-mounts \`mounted\``,
      berth: `\`berth daemon\` restoring ${MANY} local-guest FUSE mounts from mounts.json`,
      peer: '`berth mount fuse local --foreground`, 1 mount',
      berthMs: many,
      peerMs: one,
      ratio: one.median / many.median,
      goal: '< 3,000 ms',
      extra:
        `${many.median < 3000 ? 'meets' : 'misses'} the goal; ${MANY} mounts cost ${(many.median - one.median).toFixed(0)} ms more than 1` +
        (stuckMany ? `; **hung in ${stuckMany} of ${runs + 1} runs** (left out)` : ''),
    });
    const shut = down.slice(1);
    notes.push(
      `Start-up dominates both sides: \`berth --help\` alone takes ${med(help)} ms (Node plus the CLI: ${bundled ? 'the esbuild bundle out/cli/berth.mjs' : 'tsx compiling the TypeScript source, as no fresh bundle exists (npm run build:cli)'}). ` +
        `The daemon's API first answers at ${med(api)} ms, and by then table.start() has already fired the ${MANY} auto-mounts. ` +
        `CPU used until all were mounted: daemon ${med(cpu50)} ms for ${MANY} mounts, foreground ${med(cpu1)} ms for 1: ${MANY} foreground processes would each pay that start-up.`,
      `Shutdown (SIGINT, level \`short\`) of ${MANY} mounts: ${summarize(shut.map((s) => s.ms)).median.toFixed(0)} ms median to exit; the first mount logged \`unmounted\` ` +
        `${summarize(shut.map((s) => s.firstUnmountMs)).median.toFixed(0)} ms after SIGINT and the last ${summarize(shut.map((s) => s.lastUnmountMs)).median.toFixed(0)} ms: all ${MANY} ` +
        'unmount concurrently (one `fusermount -u` child each, several /proc/self/mountinfo reads each) and finish together. ' +
        `/proc/self/mountinfo was checked empty after every run. Daemon RSS with ${MANY} mounts just up: ${med(rss50)} MiB.`,
    );

    // 2. Resident memory with 10 idle mounts, against one idle foreground mount.
    const idle10: number[] = [];
    const idle1: number[] = [];
    const [rss10, rss1] = await samplePair(
      () =>
        daemonRun(IDLE, async (d) => {
          const c0 = await cpuMs(d.child.pid!);
          await new Promise((r) => setTimeout(r, IDLE_MS));
          idle10.push(((await cpuMs(d.child.pid!)) - c0) / (IDLE_MS / 1000));
          const rss = await rssMiB(d.child.pid!);
          await d.stop();
          return rss;
        }),
      async () => {
        const r = await foreground(true);
        idle1.push(r.idleCpu / (IDLE_MS / 1000));
        return r.rss;
      },
      { runs },
    );
    rows.push({
      what: `resident memory, ${IDLE} idle mounts`,
      berth: `\`berth daemon\` holding ${IDLE} local-guest FUSE mounts`,
      peer: '`berth mount fuse local --foreground`, 1 mount',
      berthMs: rss10,
      peerMs: rss1,
      unit: 'MiB',
      ratio: rss1.median / rss10.median,
      goal: '< 150 MiB',
      extra: `${rss10.median < 150 ? 'meets' : 'misses'} the goal; ${IDLE} foreground processes would hold ~${(rss1.median * IDLE).toFixed(0)} MiB`,
    });
    if (rss10.runs.length === 0) throw new Error(`every daemon run hung: ${stuck[stuck.length - 1]?.message ?? ''}`);
    const perMount = (rss10.median - rss1.median) / (IDLE - 1);
    notes.push(
      `Memory is VmRSS after ${IDLE_MS / 1000} s idle. Nearly all of it is the process itself (Node and the loaded CLI code; \`berth --help\` peaks near the same figure); ` +
        `${perMount >= 0.5 ? `each further mount adds about ${perMount.toFixed(1)} MiB` : 'a further mount adds too little to measure'}. ` +
        `Idle CPU: daemon ${med(idle10)} ms/s with ${IDLE} mounts, foreground ${med(idle1)} ms/s with 1 (one watcher per process reads /proc/self/mountinfo once a second for every FUSE mount).`,
    );
    if (stuck.length) {
      notes.push(
        `**${stuck.length} daemon run(s) hung** (${stuckMany} with ${MANY} mounts, ${stuck.length - stuckMany} with ${IDLE}) and are left out of the figures: ${stuck[0]!.message}. ` +
          'The daemon log of the first one ends:\n\n```\n' +
          stuck[0]!.log.trim().split('\n').slice(-12).join('\n') +
          '\n```',
      );
    }
    return { rows, notes };
  } finally {
    for (const x of live) await x.stop().catch(() => {});
    await detachAll(work);
    await rm(work, { recursive: true, force: true });
  }
}
