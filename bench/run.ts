import { readFile, writeFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { resolve } from 'node:path';
import { benchFuseLocal } from './fuseLocal.ts';
import { benchIpfsFuse } from './ipfsFuse.ts';
import { benchIpfsNode } from './ipfsNode.ts';
import { benchNfs } from './nfs.ts';
import { benchService } from './service.ts';
import { benchWritable } from './writable.ts';
import { table, type Row } from './lib/report.ts';
import { run } from './lib/measure.ts';

// `npm run bench`: every comparison against a named peer in the same run, medians of
// BENCH_RUNS (default 5) after one warm-up, written to bench/RESULTS.md. Never part of
// `npm test`. Needs root (FUSE, dropping the page cache) and the peers of PEERS.md.

const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 5));
const only = process.argv.slice(2);
const want = (name: string): boolean => only.length === 0 || only.includes(name);

async function main(): Promise<void> {
  const sections: string[] = [];
  const fio = (await run('fio', ['--version'])).trim();
  sections.push(
    '# Berth benchmarks',
    '',
    `Written by \`npm run bench${only.length ? ` -- ${only.join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 10)}${only.length ? ' (the other sections are from earlier runs)' : ''}: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}, Node ${process.version}, ${fio}.`,
    `Medians of ${RUNS} runs after one warm-up, Berth and its peer alternating in ABBA order. "vs peer" is the peer's figure ÷ Berth's (above 1×: Berth is faster, or for memory leaner).`,
    '',
  );
  if (want('ipfs-fuse')) {
    console.error('bench: ipfs over FUSE vs kubo-rpc-client …');
    const { rows, notes } = await benchIpfsFuse(RUNS);
    sections.push(table('IPFS through FUSE vs the RPC API (js-ipfs 0.66 peer)', rows, notes));
  }
  if (want('ipfs-node')) {
    console.error('bench: embedded node and MFS vs the js-ipfs peer …');
    const { rows, notes } = await benchIpfsNode(RUNS);
    sections.push(table('The embedded node and MFS vs the js-ipfs peer (issue 10)', rows, notes));
  }
  if (want('service')) {
    console.error('bench: mount table service vs foreground mounts …');
    const { rows, notes } = await benchService(RUNS);
    sections.push(table('The mount table service vs one foreground mount (local guests over FUSE)', rows, notes));
  }
  if (want('fuse-local')) {
    console.error('bench: FUSE local guest vs bindfs …');
    const { rows, notes } = await benchFuseLocal(RUNS);
    sections.push(table('FUSE local guest vs bindfs', rows, notes));
  }
  if (want('nfs')) {
    console.error('bench: NFS host and client vs nfs-ganesha and libnfs …');
    const { rows, notes } = await benchNfs(RUNS);
    sections.push(table('NFS: Berth vs nfs-ganesha 4 and libnfs-utils', rows, notes));
  }
  if (want('writable')) {
    // Its own run count: one untar through an NFS client takes a minute (BENCH_WRITABLE_RUNS, default 3).
    const runs = Math.max(1, Number(process.env.BENCH_WRITABLE_RUNS ?? 3));
    console.error('bench: writable (FUSE local vs bindfs, NFS host vs ganesha) …');
    const { rows, notes } = await benchWritable(runs);
    sections.push(table('Writable mounts: FUSE local guest vs bindfs, NFS host vs nfs-ganesha (issue 9)', rows, notes));
  }
  if (want('ui')) {
    console.error('bench: the browser face with 500 mounts vs a plain EventSource …');
    // Its own process: it drives Chromium, and its page-side code is typed for the DOM.
    const json = await run('npx', ['tsx', resolve(import.meta.dirname, 'ui.ts'), String(RUNS)]);
    const { rows, notes } = JSON.parse(json) as { rows: Row[]; notes: string[] };
    sections.push(table('The browser face: 500 mounts in Chromium vs a plain EventSource', rows, notes));
  }
  const out = resolve(import.meta.dirname, 'RESULTS.md');
  // Always merged: a full run too keeps the hand-written sections (profiles, what changed).
  const text = merge(await readFile(out, 'utf8').catch(() => ''), sections);
  await writeFile(out, text);
  console.log(sections.join('\n'));
  console.error(`bench: wrote ${out}`);
}

/**
 * RESULTS.md after a run (`npm run bench`, or some sections: `npm run bench -- nfs`): the
 * header and the sections run new, every other section as it was, hand-written ones
 * included, in their place.
 */
function merge(old: string, fresh: string[]): string {
  const split = (text: string): string[] => text.split(/\n(?=## )/);
  const title = (sec: string): string => sec.split('\n', 1)[0]!.trim();
  const [header, ...made] = split(fresh.join('\n'));
  const byTitle = new Map(made.map((sec) => [title(sec), sec] as const));
  const kept = old ? split(old).slice(1) : [];
  const out = kept.map((sec) => {
    const now = byTitle.get(title(sec));
    byTitle.delete(title(sec));
    return now ?? sec;
  });
  return [header!, ...out, ...byTitle.values()].map((sec) => sec.replace(/\n+$/, '\n')).join('\n');
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
