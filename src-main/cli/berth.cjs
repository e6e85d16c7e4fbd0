#!/usr/bin/env node
'use strict';
// The `berth` bin. libuv sizes its threadpool (4 threads by default) the first time it is
// used, and Node uses it to read an ES module entry before any of that module runs, so
// launcher.mjs cannot size it for its own process. This CommonJS file is read without the
// pool: setting the variable here, before the ESM launcher loads, is what takes effect
// (measured: a daemon with 12 threads of which 4 pool, now 24 of which 16). Every fs call
// a local or NFS guest makes for a FUSE request runs on that pool. A value the user set wins.
if (process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = '16';
import('./launcher.mjs').catch((err) => {
  console.error(err);
  process.exit(1);
});
