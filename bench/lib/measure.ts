import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';

// Timing helpers for `npm run bench`. Every figure is the median of several runs of
// the same operation, taken in the same run as the peer it is compared with, so the
// ratio holds even when the machine's speed drifts.

/** Summary of repeated timings, in milliseconds. */
export interface Sample {
  runs: number[];
  median: number;
  min: number;
  max: number;
}

/** Median/min/max of a list of milliseconds. */
export function summarize(runs: number[]): Sample {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { runs, median, min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

/** The value at quantile `q` (0–1) of an ascending list: the element at floor(q × n), the last for q = 1. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/**
 * Each round's A ÷ B, summarized, from timePair's samples. The two runs of a round follow each
 * other, so a change of the machine's speed between rounds, which moves both medians, mostly
 * cancels here; the spread says how far one round's ratio can be from another's.
 */
export function perRound(a: Sample, b: Sample): Sample {
  return summarize(a.runs.map((x, i) => x / (b.runs[i] ?? Number.NaN)).filter((r) => Number.isFinite(r)));
}

/**
 * Which side goes first in round `i`: A, B, B, A, A, B, … (ABBA). Strict alternation
 * (A, B, A, B) puts A first every round, and what a run leaves behind (freed inodes, a
 * warm cache, dirty pages still being written) then always lands on B.
 */
export function firstInRound(i: number): 'a' | 'b' {
  return i % 2 === 0 ? 'a' : 'b';
}

/**
 * Times `fn` `runs` times after `warmup` untimed runs; `before` runs untimed ahead of
 * every run (drop caches, remount). Runs A and B alternately when given a pair, in ABBA
 * order (firstInRound), so drift hits both sides alike.
 */
export async function timePair(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  opts: { runs: number; warmup?: number; before?: () => Promise<void> },
): Promise<[Sample, Sample]> {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < (opts.warmup ?? 1) + opts.runs; i++) {
    const pairs = [
      [a, ta],
      [b, tb],
    ] as const;
    for (const [fn, into] of firstInRound(i) === 'a' ? pairs : [pairs[1], pairs[0]]) {
      await opts.before?.();
      const t0 = performance.now();
      await fn();
      const dt = performance.now() - t0;
      if (i >= (opts.warmup ?? 1)) into.push(dt);
    }
  }
  return [summarize(ta), summarize(tb)];
}

/**
 * Like timePair, for figures the functions measure themselves (a time inside a longer
 * run, resident memory): each returns its figure; A and B alternate (ABBA, as in
 * timePair) after `warmup` untimed rounds. A NaN figure (a run that failed and was
 * counted by the caller) is left out of the summary.
 */
export async function samplePair(
  a: () => Promise<number>,
  b: () => Promise<number>,
  opts: { runs: number; warmup?: number },
): Promise<[Sample, Sample]> {
  const va: number[] = [];
  const vb: number[] = [];
  const warmup = opts.warmup ?? 1;
  for (let i = 0; i < warmup + opts.runs; i++) {
    let x: number;
    let y: number;
    if (firstInRound(i) === 'a') {
      x = await a();
      y = await b();
    } else {
      y = await b();
      x = await a();
    }
    if (i >= warmup) {
      va.push(x);
      vb.push(y);
    }
  }
  return [summarize(va.filter((x) => !Number.isNaN(x))), summarize(vb.filter((x) => !Number.isNaN(x)))];
}

/** Runs a command to completion, stdout discarded; rejects on a non-zero exit. */
export async function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      if (out.length < 1 << 20) out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${String(code)}: ${err.trim()}`)),
    );
  });
}

/** Empties the page cache (root only), so a read reaches the file system under test. */
export async function dropCaches(): Promise<void> {
  await run('sh', ['-c', 'sync; echo 3 > /proc/sys/vm/drop_caches']);
}

/** MiB/s for `bytes` moved in `ms`. */
export function mibps(bytes: number, ms: number): number {
  return bytes / (1 << 20) / (ms / 1000);
}

/** The 1-minute load average, for the notes beside a figure (the machine is shared). */
export function load(): string {
  return loadavg()[0]!.toFixed(1);
}
