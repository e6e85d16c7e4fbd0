#!/usr/bin/env node
'use strict';
// The `berth` bin. libuv sizes its threadpool (4 threads by default) the first time it is
// used, and Node uses it to read an ES module entry before any of that module runs, so
// launcher.mjs cannot size it for its own process. This CommonJS file is read without the
// pool: setting the variable here, before the ESM launcher loads, is what takes effect
// (measured: a daemon with 12 threads of which 4 pool, now 24 of which 16). Every fs call
// a local or NFS guest makes for a FUSE request runs on that pool. A value the user set wins.
if (process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = '16';
// V8 optimises a function once it has spent an "interrupt budget" of bytecode; the default
// suits short scripts and a browser tab. A mount host runs a few hot paths (an NFS
// READDIRPLUS, a FUSE lookup) for hours: with a quarter of the default budget they reach
// optimised code in the first few listings rather than after a dozen (measured: the first
// 12 `nfs-ls -R` of 10,000 files on a fresh host used about a third less main-thread CPU,
// no more CPU in all; docs/architecture.md "Warm-up", bench/warmup.sh). Set before any of
// Berth's code is compiled; a budget given on Node's command line wins.
if (!process.execArgv.some((a) => a.startsWith('--interrupt-budget'))) require('node:v8').setFlagsFromString('--interrupt-budget=32768');
import('./launcher.mjs').catch((err) => {
  console.error(err);
  process.exit(1);
});
