#!/usr/bin/env node
// The CLI entry behind the `berth` bin (berth.cjs, which sizes libuv's threadpool first).
// Runs the bundled CLI when a build exists, else the TypeScript source through tsx, so
// `npx berth --help` works straight after `npm install` with no build.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Too late for this process when it was started on this file (Node already used the pool
// to load it; berth.cjs sets it in time), but processes it starts inherit it.
process.env.UV_THREADPOOL_SIZE ??= '16';

const built = new URL('../../out/cli/berth.mjs', import.meta.url);

async function load(specifier, parent) {
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(specifier, parent);
}

const argv = process.argv.slice(2);
let code;
if (argv[0] === '--bench-entry' && argv[1]) {
  // `npm run bench`: run a TypeScript entry file from the project with the same loader.
  const mod = await load(pathToFileURL(resolve(argv[1])).href, import.meta.url);
  code = typeof mod.default === 'function' ? await mod.default(argv.slice(2)) : 0;
} else {
  const mod = existsSync(fileURLToPath(built)) ? await import(built.href) : await load('./main.ts', import.meta.url);
  code = await mod.main(argv);
}
process.exit(typeof code === 'number' ? code : 0);
