import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quantile } from './lib/measure.ts';

// Profiling aid (not part of `npm run bench`): how each server's calls were spread in time,
// from the timelines bench/nfsProfile.ts writes with NFS_PROFILE_COUNT=1 NFS_PROFILE_TIMELINE=<dir>
// (each call as `name start-µs end-µs`, seen by the client). Per procedure and side, the
// percentiles of the time each call waited, split by whether a COMMIT was in flight when
// the call left (a host answers those beside an fsync of its disk); then how the workload's
// span divides between no call out (the client, the kernel and the program at work), only a
// COMMIT out, and other calls out (the servers' share). A mean hides whether a gap is a few
// slow calls or every call a little slower; this tells them apart.
//   NFS_PROFILE_SCRATCH=1 NFS_PROFILE_COUNT=1 NFS_PROFILE_TIMELINE=<dir> npx tsx bench/nfsProfile.ts untar rm
//   npx tsx bench/timelineStats.ts <dir> [workload ...]   (default: untar rm; sides berth and ganesha)

interface Call {
  name: string;
  start: number;
  end: number;
}

function load(file: string): Call[] {
  const calls: Call[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [name, start, end] = line.split(' ');
    if (name && start && end) calls.push({ name, start: Number(start), end: Number(end) });
  }
  return calls.sort((a, b) => a.start - b.start);
}

/** Waits per `procedure, while a COMMIT was out or not`. */
function waits(calls: Call[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const commits = calls.filter((c) => c.name === 'COMMIT');
  let i = 0;
  for (const c of calls) {
    if (c.name === 'COMMIT') continue;
    // Commits sorted by start: skip those over before this call left; any left that began before it is out.
    while (i < commits.length && commits[i]!.end <= c.start) i++;
    let during = false;
    for (let j = i; j < commits.length && commits[j]!.start <= c.start; j++) if (commits[j]!.end > c.start) during = true;
    const key = `${c.name}${during ? ' (COMMIT out)' : ''}`;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(c.end - c.start);
  }
  const all = commits.map((c) => c.end - c.start);
  if (all.length) out.set('COMMIT', all);
  return out;
}

/** The span split by what was out: nothing, only COMMITs, other calls (µs). */
function spans(calls: Call[]): { none: number; commitOnly: number; other: number; total: number } {
  const edges: [number, number, boolean][] = [];
  for (const c of calls) edges.push([c.start, 1, c.name === 'COMMIT'], [c.end, -1, c.name === 'COMMIT']);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let out = 0;
  let commitsOut = 0;
  let last = edges[0]?.[0] ?? 0;
  const s = { none: 0, commitOnly: 0, other: 0, total: 0 };
  for (const [t, d, commit] of edges) {
    const dt = t - last;
    last = t;
    if (out === 0) s.none += dt;
    else if (out === commitsOut) s.commitOnly += dt;
    else s.other += dt;
    out += d;
    if (commit) commitsOut += d;
  }
  s.total = (edges.at(-1)?.[0] ?? 0) - (edges[0]?.[0] ?? 0);
  return s;
}

function row(xs: number[] | undefined): string {
  if (!xs?.length) return ' '.repeat(34);
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): string => quantile(s, p).toFixed(0).padStart(6);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `${String(s.length).padStart(6)} ${q(0.5)} ${q(0.9)} ${q(0.99)} ${mean.toFixed(0).padStart(6)}`;
}

function main(): void {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: npx tsx bench/timelineStats.ts <dir of NFS_PROFILE_TIMELINE> [workload ...]');
  const workloads = process.argv.length > 3 ? process.argv.slice(3) : ['untar', 'rm'];
  for (const w of workloads) {
    const berth = load(join(dir, `${w}-berth.txt`));
    const ganesha = load(join(dir, `${w}-ganesha.txt`));
    const [b, g] = [waits(berth), waits(ganesha)];
    console.log(`${w}: µs each call waited at the client; calls, p50, p90, p99, mean`);
    console.log(`${'procedure'.padEnd(24)} ${'Berth'.padEnd(34)} | ganesha`);
    for (const key of [...new Set([...b.keys(), ...g.keys()])].sort()) console.log(`${key.padEnd(24)} ${row(b.get(key))} | ${row(g.get(key))}`);
    for (const [side, calls] of [['Berth', berth], ['ganesha', ganesha]] as const) {
      const s = spans(calls);
      const sec = (us: number): string => `${(us / 1e6).toFixed(2)} s`;
      console.log(`${side}: span ${sec(s.total)}: no call out ${sec(s.none)}, only a COMMIT out ${sec(s.commitOnly)}, other calls out ${sec(s.other)}`);
    }
    console.log('');
  }
}

main();
