import { readFile, writeFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { resolve } from 'node:path';
import { benchIpfsFuse } from './ipfsFuse.ts';
import { benchIpfsNode } from './ipfsNode.ts';
import { benchNfs } from './nfs.ts';
import { benchService } from './service.ts';
import { mergeSections, table, type Row } from './lib/report.ts';
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
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}, Node ${process.version}, ${fio}.`,
    `Medians of ${RUNS} runs after one warm-up, Berth and its peer alternating. "vs peer" is the peer's figure ÷ Berth's (above 1×: Berth is faster, or for memory leaner).`,
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
  if (want('nfs')) {
    console.error('bench: NFS host and client vs nfs-ganesha and libnfs …');
    const { rows, notes } = await benchNfs(RUNS);
    sections.push(table('NFS: Berth vs nfs-ganesha 4 and libnfs-utils', rows, notes));
  }
  if (want('ui')) {
    console.error('bench: the browser face with 500 mounts vs a plain EventSource …');
    // Its own process: it drives Chromium, and its page-side code is typed for the DOM.
    const json = await run('npx', ['tsx', resolve(import.meta.dirname, 'ui.ts'), String(RUNS)]);
    const { rows, notes } = JSON.parse(json) as { rows: Row[]; notes: string[] };
    sections.push(table('The browser face: 500 mounts in Chromium vs a plain EventSource', rows, notes));
  }
  const out = resolve(import.meta.dirname, 'RESULTS.md');
  // A run of some sections replaces only those in the file; the others keep their figures.
  const text = only.length === 0 ? sections.join('\n') : mergeSections(await readFile(out, 'utf8').catch(() => ''), sections.join('\n'), `\`npm run bench -- ${only.join(' ')}\` on ${new Date().toISOString().slice(0, 10)}`);
  await writeFile(out, text);
  console.log(sections.join('\n'));
  console.error(`bench: wrote ${out}`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
