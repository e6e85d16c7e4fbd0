#!/usr/bin/env node
// `npm start`: the desktop app — the built renderer in Electron with the real main process
// (which hosts the mount service on the usual socket, so `berth` drives it). Where
// Electron's binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD, no internet at
// install) it says so in one line and starts the headless daemon with the browser UI
// instead, which prints the URL to open. Either way it first rebuilds what is older than
// its sources (electron-vite: out/main, out/preload, out/renderer).
//
//   npm start                          the app, or the browser UI on 127.0.0.1:5050
//   npm start -- --browser             the browser UI even where Electron is installed
//   npm start -- --ui 127.0.0.1:0      the browser UI's address (port 0: any free port)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isFresh } from './freshness.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

/** What electron-vite writes, and what it is built from. */
export const BUILD_OUTPUTS = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((p) => join(root, p));
const BUILD_SOURCES = ['src-main', 'src-shared', 'src-renderer', 'electron.vite.config.ts', 'package.json'].map((p) => join(root, p));

/** The Electron binary, or undefined when the package is there without it (its index.js throws then). */
export function electronBinary() {
  try {
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `electron-vite build` when an output is missing or older than a source; returns false when the build failed. */
export function buildIfStale(log = (m) => process.stderr.write(`${m}\n`)) {
  if (isFresh(BUILD_OUTPUTS, BUILD_SOURCES)) return true;
  log('building the app (electron-vite build: main, preload, renderer)…');
  const pkg = JSON.parse(readFileSync(require.resolve('electron-vite/package.json'), 'utf8'));
  const bin = join(dirname(require.resolve('electron-vite/package.json')), typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['electron-vite']);
  const r = spawnSync(process.execPath, [bin, 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  return r.status === 0;
}

/**
 * Runs a child writing to this terminal; resolves with its exit code. The child gets its
 * own process group and each signal exactly once, from here: a Ctrl-C reaching both
 * would count twice, and the daemon takes a second signal as "force".
 */
function run(cmd, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env, detached: true });
    const forward = (sig) => child.kill(sig);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, forward);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(argv) {
  const { values } = parseArgs({ args: argv, options: { browser: { type: 'boolean' }, ui: { type: 'string' } } });
  const electron = values.browser ? undefined : electronBinary();
  if (!buildIfStale()) {
    process.stderr.write('npm start: the build failed (see above)\n');
    return 1;
  }
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  if (electron) {
    // The app runs `berth` for the file manager's Copy CID scripts with this Node.
    return run(electron, [root], { ...env, BERTH_NODE: process.execPath });
  }
  if (!values.browser) {
    process.stderr.write("Electron's binary is not installed here (installed with ELECTRON_SKIP_BINARY_DOWNLOAD, or its download failed): starting the daemon with the browser UI instead — open the URL it prints.\n");
  }
  return run(process.execPath, [join(root, 'src-main/cli/berth.cjs'), 'daemon', '--ui', values.ui ?? '127.0.0.1:5050'], env);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`npm start: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    },
  );
}
