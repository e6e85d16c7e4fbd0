#!/usr/bin/env node
// The CLI entry behind the `berth` bin (berth.cjs, which sizes libuv's threadpool first).
// Runs the bundled CLI (out/cli/berth.mjs, `npm run build:cli`) when it is at least as new
// as the sources beside it, else the TypeScript source through tsx, so `npx berth --help`
// works straight after `npm install` with no build and an edit is never hidden by an old
// bundle. The bundle starts about twice as fast: tsx compiles every module at start-up.
import { fileURLToPath } from 'node:url';
import { isFresh } from './freshness.mjs';

// Too late for this process when it was started on this file (Node already used the pool
// to load it; berth.cjs sets it in time), but processes it starts inherit it.
process.env.UV_THREADPOOL_SIZE ??= '16';

const built = new URL('../../out/cli/berth.mjs', import.meta.url);
const sourceRoots = ['../../src-main', '../../src-shared'].map((p) => fileURLToPath(new URL(p, import.meta.url)));

function bundleIsFresh() {
  return isFresh([fileURLToPath(built)], sourceRoots);
}

async function loadSource() {
  const { tsImport } = await import('tsx/esm/api');
  return tsImport('./main.ts', import.meta.url);
}

const mod = bundleIsFresh() ? await import(built.href) : await loadSource();
const code = await mod.main(process.argv.slice(2));
process.exit(typeof code === 'number' ? code : 0);
