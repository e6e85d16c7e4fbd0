import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NfsClient } from '../src-main/nfs/client/NfsClient.ts';
import { startGanesha, type Ganesha } from '../test/helpers/ganesha.ts';
import { run } from './lib/measure.ts';
import { cpuMs, foregroundNfsHost, listenerPid, type ForegroundNfsHost } from './lib/proc.ts';

// Profiling aid for the NFS host (not part of `npm run bench`): the time of one call at a
// time on Berth's NFS host and on nfs-ganesha, for the calls issue 9's workloads make
// (CALLS below), with the server and this client placed three ways: where the scheduler
// puts them, both on one CPU, and on two CPUs (taskset on every thread of the server and
// of this process). It separates what a call costs the server from what waking a process
// on another CPU costs, and shows which procedure costs more than the peer's. The CPU
// columns are each server's own CPU time per call (all its threads, user and kernel, from
// /proc/PID/stat): what a call costs it, whatever the waits around it. The last columns
// count how often the client's and each server's threads moved to another CPU.
// Usage: npx tsx bench/nfsRoundTrip.ts [calls per figure, default 10000] [name ...]
// (names: the CALLS keys, e.g. "READ 4K"; default all). NFS_ROUNDTRIP_HANDLES=N first
// creates N files through each server (in a folder of their own), so each server knows N
// more handles, as one serving a big tree for a while does.
// With NULL among the calls, a row "NULL, bare Node server" follows it: the same call
// answered by a Node process that only parses the record mark and writes a fixed reply
// (FLOOR_SERVER), the least any Node server pays per call where it is placed, and a row
// "NULL, blocking worker": the same answers from a worker thread that blocks in read()
// on the connection (FLOOR_BLOCKING_SERVER), the least a Node server pays without its event loop.

interface Server {
  name: string;
  pid: number;
  client: NfsClient;
  root: Buffer;
  /** A 1 MiB file. */
  file: Buffer;
  /** A folder of 100 small files. */
  dir: Buffer;
  /** A symlink. */
  link: Buffer;
  /** Names CREATE made and REMOVE removed so far. */
  made: number;
  removed: number;
}

const placements: { name: string; server?: string; client?: string }[] = [
  { name: 'as scheduled' },
  { name: 'one CPU', server: '0', client: '0' },
  { name: 'two CPUs', server: '0', client: '1' },
];

async function pin(pid: number, cpus: string): Promise<void> {
  await run('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
}

/** Times the threads of `pid` moved to another CPU (se.nr_migrations in /proc/PID/task/TID/sched, summed). */
async function migrations(pid: number): Promise<number> {
  let sum = 0;
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const m = /^se\.nr_migrations\s*:\s*(\d+)$/m.exec(await readFile(`/proc/${pid}/task/${tid}/sched`, 'utf8').catch(() => ''));
    if (m) sum += Number(m[1]);
  }
  return sum;
}

/**
 * A Node TCP server answering every ONC RPC call record with an accepted, successful reply
 * and no results (a NULL's), doing nothing else; it prints its port, and exits when its
 * stdin closes.
 */
const FLOOR_SERVER = `
const net = require('node:net');
net.createServer({ noDelay: true }, (s) => {
  let pending = Buffer.alloc(0);
  s.on('error', () => {});
  s.on('data', (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const len = pending.readUInt32BE(0) & 0x7fffffff;
      if (pending.length < 4 + len) break;
      const reply = Buffer.alloc(28);
      reply.writeUInt32BE(0x80000018, 0); // the last fragment, 24 bytes
      pending.copy(reply, 4, 4, 8); // the xid; then REPLY (1), and zeros: MSG_ACCEPTED, an AUTH_NONE verifier, SUCCESS
      reply.writeUInt32BE(1, 8);
      s.write(reply);
      pending = pending.subarray(4 + len);
    }
  });
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
// Gone with the benchmark, however it ends: its stdin closes then.
process.stdin.on('end', () => process.exit(0)).resume();`;

/**
 * FLOOR_SERVER's answers given another way: each connection is handed to a worker thread
 * that reads and writes it with blocking system calls (libc's read and write through koffi),
 * never through Node's event loop, as a server with a thread per connection does (ganesha's
 * threads block on their own). The thread is then woken by the client's write itself, and
 * shows what Node's event loop adds to every call of a server that runs on it.
 */
const FLOOR_BLOCKING_SERVER = `
const net = require('node:net');
const { Worker } = require('node:worker_threads');
const serve = \`
const koffi = require('koffi');
const { workerData } = require('node:worker_threads');
const lib = koffi.load('libc.so.6');
const read = lib.func('long read(int fd, _Out_ uint8_t *buf, size_t n)');
const write = lib.func('long write(int fd, const uint8_t *buf, size_t n)');
const fcntl = lib.func('int fcntl(int fd, int cmd, int arg)');
const fd = workerData.fd;
fcntl(fd, 4, fcntl(fd, 3, 0) & ~0o4000); // F_SETFL without O_NONBLOCK: reads wait
const buf = Buffer.alloc(1 << 16);
const reply = Buffer.alloc(28);
reply.writeUInt32BE(0x80000018, 0);
reply.writeUInt32BE(1, 8);
let have = 0;
for (;;) {
  const n = Number(read(fd, buf.subarray(have), buf.length - have));
  if (n <= 0) break;
  have += n;
  let at = 0;
  while (have - at >= 8) {
    const len = buf.readUInt32BE(at) & 0x7fffffff;
    if (have - at < 4 + len) break;
    buf.copy(reply, 4, at + 4, at + 8);
    write(fd, reply, 28);
    at += 4 + len;
  }
  buf.copy(buf, 0, at, have);
  have -= at;
}
\`;
// pauseOnConnect: the event loop never reads the socket; the worker owns its descriptor.
net.createServer({ noDelay: true, pauseOnConnect: true }, (s) => {
  s.on('error', () => {});
  new Worker(serve, { eval: true, workerData: { fd: s._handle.fd } });
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
process.stdin.on('end', () => process.exit(0)).resume();`;

/** Starts a floor server (FLOOR_SERVER or FLOOR_BLOCKING_SERVER); its pid, its port and how to stop it. */
async function floorServer(script: string): Promise<{ pid: number; port: number; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { pid: child.pid!, port: Number(line.toString().trim()), stop: () => child.kill() };
}

/** Mean µs per call of `n` calls made one after another (after n/10 untimed). */
async function perCall(n: number, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < n / 10; i++) await call();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await call();
  return ((performance.now() - t0) * 1000) / n;
}

/** Untimed calls of each kind made before any is timed (see main). */
const WARM_CALLS = 4000;

/** Each measured call, made on a server; the READs and WRITEs step through the 1 MiB file. */
const CALLS: Record<string, (s: Server) => () => Promise<unknown>> = {
  NULL: (s) => () => s.client.ping(),
  GETATTR: (s) => () => s.client.getattr(s.root),
  LOOKUP: (s) => {
    let i = 0;
    return () => s.client.lookup(s.dir, `f${i++ % 100}`);
  },
  'LOOKUP, no such name': (s) => {
    let i = 0;
    return () => s.client.lookup(s.dir, `none${i++ % 100}`).catch(() => {});
  },
  'SETATTR mode': (s) => {
    let i = 0;
    return () => s.client.setattr(s.file, { mode: i++ & 1 ? 0o644 : 0o640 });
  },
  'WRITE 4K': (s) => {
    let offset = 0;
    const data = Buffer.alloc(4096, 7);
    return async () => {
      await s.client.write(s.file, offset, data);
      offset = (offset + 3 * 4096) % (1 << 20);
    };
  },
  'READ 4K': (s) => reads(s, 4096),
  'READ 128K': (s) => reads(s, 128 * 1024),
  'READDIRPLUS, 100 names': (s) => async () => {
    for await (const page of s.client.readdirplusPages(s.dir)) void page;
  },
  RENAME: (s) => {
    let i = 0;
    // f0 moves to g0 and back, one RENAME per call.
    return () => (i++ & 1 ? s.client.rename(s.dir, 'g0', s.dir, 'f0') : s.client.rename(s.dir, 'f0', s.dir, 'g0'));
  },
  READLINK: (s) => () => s.client.readlink(s.link),
  // REMOVE removes what CREATE made: CREATE runs first (the order here). Both follow ext4's
  // state more than either server: a create right after many removals scans past the
  // inodes freed in the last minutes (`recently_deleted`), 20 µs or 700 µs per create here.
  CREATE: (s) => () => s.client.create(s.dir, `c${s.made++}`, 0o644),
  REMOVE: (s) => () => s.client.remove(s.dir, `c${s.removed++}`),
  'CREATE + REMOVE': (s) => {
    let i = 0;
    return async () => {
      const name = `new${i++}`;
      await s.client.create(s.dir, name, 0o644);
      await s.client.remove(s.dir, name);
    };
  },
};

function reads(s: Server, size: number): () => Promise<unknown> {
  let offset = 0;
  return async () => {
    const r = await s.client.read(s.file, offset, size);
    r.release();
    offset = (offset + 3 * size) % (1 << 20);
  };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10_000);
  const names = process.argv.length > 3 ? process.argv.slice(3) : Object.keys(CALLS);
  for (const name of names) if (!CALLS[name]) throw new Error(`no call named ${JSON.stringify(name)}; known: ${Object.keys(CALLS).join(', ')}`);
  if (names.includes('REMOVE') && names.indexOf('CREATE') < 0) throw new Error('REMOVE removes what CREATE made: name CREATE before it');
  const all = Array.from({ length: availableParallelism() }, (_, i) => i).join(',');
  const work = await mkdtemp(join(tmpdir(), 'berth-nfsrtt-'));
  let host: ForegroundNfsHost | undefined;
  let ganesha: Ganesha | undefined;
  const floors: { name: string; server: Awaited<ReturnType<typeof floorServer>>; client: NfsClient }[] = [];
  const servers: Server[] = [];
  try {
    await mkdir(join(work, 'b'));
    await mkdir(join(work, 'g'));
    const data = Buffer.alloc(1 << 20, 7);
    for (const side of ['b', 'g']) {
      await writeFile(join(work, side, 'f'), data);
      await mkdir(join(work, side, 'd'));
      for (let i = 0; i < 100; i++) await writeFile(join(work, side, 'd', `f${i}`), 'x');
      await symlink('d/f1', join(work, side, 'l'));
    }
    host = await foregroundNfsHost(['local', '--path', join(work, 'b'), '--rw', '--nfs-no-root-squash']);
    const cred = { uid: 0, gid: 0 };
    const b = new NfsClient({ host: '127.0.0.1', port: host.port, cred });
    const bRoot = await b.mount('/');
    servers.push({ name: 'berth', pid: host.child.pid!, client: b, root: bRoot, file: (await b.lookup(bRoot, 'f')).fh, dir: (await b.lookup(bRoot, 'd')).fh, link: (await b.lookup(bRoot, 'l')).fh, made: 0, removed: 0 });
    ganesha = await startGanesha(join(work, 'g'));
    const g = new NfsClient({ host: '127.0.0.1', port: ganesha.nfsPort, mountPort: ganesha.mountPort, cred });
    const gRoot = await g.mount(ganesha.exportPath);
    servers.push({ name: 'ganesha', pid: listenerPid(ganesha.nfsPort)!, client: g, root: gRoot, file: (await g.lookup(gRoot, 'f')).fh, dir: (await g.lookup(gRoot, 'd')).fh, link: (await g.lookup(gRoot, 'l')).fh, made: 0, removed: 0 });
    const handles = Number(process.env.NFS_ROUNDTRIP_HANDLES ?? 0);
    for (const s of servers) {
      if (handles <= 0) break;
      const many = (await s.client.mkdir(s.root, 'many', 0o755))?.fh ?? (await s.client.lookup(s.root, 'many')).fh;
      for (let i = 0; i < handles; i++) await s.client.create(many, `m${i}`, 0o644);
      // Berth's host keeps 200,000 handles: the ones taken at the start may be dropped by now
      // (NFS3ERR_STALE), and are looked up again from the root, as a client does (RFC 1813 §2.6).
      s.file = (await s.client.lookup(s.root, 'f')).fh;
      s.dir = (await s.client.lookup(s.root, 'd')).fh;
      s.link = (await s.client.lookup(s.root, 'l')).fh;
    }
    if (names.includes('NULL')) {
      for (const [name, script] of [['NULL, bare Node server', FLOOR_SERVER], ['NULL, blocking worker', FLOOR_BLOCKING_SERVER]] as const) {
        const server = await floorServer(script);
        floors.push({ name, server, client: new NfsClient({ host: '127.0.0.1', port: server.port, cred: { uid: 0, gid: 0 } }) });
      }
    }
    console.log(`${n} calls one at a time per figure, µs per call (mean)${handles > 0 ? `, after ${handles} files made through each server` : ''}`);
    console.log(`${'placement'.padEnd(14)} ${'call'.padEnd(22)}  berth  ganesha  berth ÷ ganesha  CPU µs: berth ganesha   moves: client with berth, berth, client with ganesha, ganesha`);
    /** One figure: `call` made n times with the server `pid` and this process placed as `p`. */
    const measure = async (pid: number, p: (typeof placements)[number], call: () => Promise<unknown>): Promise<{ us: number; cpu: number; moves: number[] }> => {
      await pin(pid, p.server ?? all);
      await pin(process.pid, p.client ?? all);
      const [c0, s0] = [await migrations(process.pid), await migrations(pid)];
      const cpu0 = await cpuMs(pid);
      const us = await perCall(n, call);
      // perCall also makes n/10 untimed calls first.
      const cpu = (((await cpuMs(pid)) - cpu0) * 1000) / (n + Math.floor(n / 10));
      return { us, cpu, moves: [(await migrations(process.pid)) - c0, (await migrations(pid)) - s0] };
    };
    /** Migration counts as printed: a thread that ended took its count with it ('?'). */
    const movesText = (moves: number[]): string => moves.map((m) => (m < 0 ? '?' : m)).join(', ');
    // Every call first runs untimed on each server, as many times as it will be timed and at
    // least WARM_CALLS: the host's JavaScript is then compiled by V8's optimizing tiers before the
    // first figure. With only perCall's n/10 calls, the first placement's figures for the host
    // included that compilation (its CPU on V8's threads and slower code): 2026-12-03, LOOKUP
    // 136 µs of host CPU a call in the first figure and 41 µs when repeated, ganesha 36 µs both times.
    const warm = 2 * Math.ceil(Math.max(n, WARM_CALLS) / 2); // even: RENAME moves f0 and back
    for (const proc of names) for (const s of servers) {
      const call = CALLS[proc]!(s);
      for (let i = 0; i < warm; i++) await call();
    }
    for (const floor of floors) for (let i = 0; i < warm; i++) await floor.client.ping();
    for (const p of placements) {
      for (const proc of names) {
        const [b, g] = [await measure(servers[0]!.pid, p, CALLS[proc]!(servers[0]!)), await measure(servers[1]!.pid, p, CALLS[proc]!(servers[1]!))];
        const moves = movesText([...b.moves, ...g.moves]);
        console.log(`${p.name.padEnd(14)} ${proc.padEnd(22)} ${b.us.toFixed(1).padStart(6)}  ${g.us.toFixed(1).padStart(7)}  ${(b.us / g.us).toFixed(2).padStart(8)}×  ${b.cpu.toFixed(0).padStart(5)} ${g.cpu.toFixed(0).padStart(5)}   ${moves}`);
        for (const floor of proc === 'NULL' ? floors : []) {
          const f = await measure(floor.server.pid, p, () => floor.client.ping());
          console.log(`${p.name.padEnd(14)} ${floor.name.padEnd(22)} ${f.us.toFixed(1).padStart(6)}  ${''.padStart(7)}  ${''.padStart(9)}  ${f.cpu.toFixed(0).padStart(5)}         ${movesText(f.moves)}`);
        }
      }
    }
  } finally {
    await pin(process.pid, all).catch(() => {});
    for (const s of servers) await s.client.close().catch(() => {});
    for (const floor of floors) {
      await floor.client.close().catch(() => {});
      floor.server.stop();
    }
    await host?.stop().catch(() => {});
    await ganesha?.stop().catch(() => {});
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}

await main();
