import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, run, timePair } from './lib/measure.ts';
import { isMounted } from '../src-main/hosts/mountInfo.ts';
import { foregroundMount, type ForegroundMount } from './lib/proc.ts';
import type { Row } from './lib/report.ts';

// Issue 11's row 7 (measured here only; the local guest's listing speed is issue 9's):
// `find` over a real tree through `berth mount fuse local` against bindfs, the C FUSE
// passthrough, on the same folder, warm page cache.

/** The tree both mounts show: /usr/share/doc (issue 9 used it: ~5,700 entries, 36 MB there). */
const TREE = process.env.BENCH_FIND_TREE ?? '/usr/share/doc';

/** Runs the FUSE local-guest comparisons; returns table rows and notes. */
export async function benchFuseLocal(runs: number): Promise<{ rows: Row[]; notes: string[] }> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-fuse-local-'));
  const ours = join(work, 'berth');
  const theirs = join(work, 'bindfs');
  await mkdir(ours);
  await mkdir(theirs);
  let mount: ForegroundMount | undefined;
  let bindfs = false;
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    if (!existsSync(TREE)) throw new Error(`${TREE} does not exist (set BENCH_FIND_TREE)`);
    mount = await foregroundMount(['fuse', 'local', '--path', TREE], ours);
    execFileSync('bindfs', ['-o', 'ro', TREE, theirs]);
    bindfs = true;
    const entries = (await run('sh', ['-c', `find '${theirs}' | wc -l`])).trim();
    const l0 = load();
    const [findOurs, findBindfs] = await timePair(
      () => run('sh', ['-c', `find '${ours}' > /dev/null`]),
      () => run('sh', ['-c', `find '${theirs}' > /dev/null`]),
      { runs },
    );
    rows.push({
      what: `\`find\` over ${Number(entries).toLocaleString('en')} entries (${TREE}), warm`,
      berth: '`berth mount fuse local`',
      peer: 'bindfs (C FUSE passthrough)',
      berthMs: findOurs,
      peerMs: findBindfs,
      ratio: findBindfs.median / findOurs.median,
      goal: '≥ 0.67×',
      extra: `load ${l0}–${load()}`,
    });
    notes.push('Measured for issue 11, worked on under issue 9 (the local guest). A local folder changes under Berth, so Berth keeps its listings and attributes only while inotify proves them fresh (guests/localAttrCache.ts); the kernel keeps them 1 s, as bindfs\'s does, and drops a node\'s at every open.');
    return { rows, notes };
  } finally {
    await mount?.stop().catch(() => {});
    if (bindfs || (await isMounted(theirs))) execFileSync('fusermount', ['-u', theirs], { stdio: 'ignore' });
    await rm(work, { recursive: true, force: true });
  }
}
