#!/usr/bin/env node
// The CLI entry behind the `berth` bin (berth.cjs, which sizes libuv's threadpool first).
// Runs the bundled CLI (out/cli/berth.mjs, `npm run build:cli`) when it is at least as new
// as the sources beside it, else the TypeScript source through tsx, so `npx berth --help`
// works straight after `npm install` with no build and an edit is never hidden by an old
// bundle. The bundle starts about twice as fast: tsx compiles every module at start-up.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Too late for this process when it was started on this file (Node already used the pool
// to load it; berth.cjs sets it in time), but processes it starts inherit it.
process.env.UV_THREADPOOL_SIZE ??= '16';

const built = new URL('../../out/cli/berth.mjs', import.meta.url);
const sourceRoots = ['../../src-main', '../../src-shared'].map((p) => fileURLToPath(new URL(p, import.meta.url)));

/** Newest modification time (ms) of the files under `dir`; 0 when it does not exist. */
function newestUnder(dir) {
  let newest = 0;
  let entries;
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

function bundleIsFresh() {
  const path = fileURLToPath(built);
  if (!existsSync(path)) return false;
  const bundled = statSync(path).mtimeMs;
  return sourceRoots.every((root) => newestUnder(root) <= bundled);
}

async function loadSource() {
  const { tsImport } = await import('tsx/esm/api');
  return tsImport('./main.ts', import.meta.url);
}

const mod = bundleIsFresh() ? await import(built.href) : await loadSource();
const code = await mod.main(process.argv.slice(2));
process.exit(typeof code === 'number' ? code : 0);
