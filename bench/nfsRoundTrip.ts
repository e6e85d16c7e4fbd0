import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NfsClient } from '../src-main/nfs/client/NfsClient.ts';
import { startGanesha, type Ganesha } from '../test/helpers/ganesha.ts';
import { run } from './lib/measure.ts';
import { foregroundNfsHost, listenerPid, type ForegroundNfsHost } from './lib/proc.ts';

// Profiling aid for the NFS host (not part of `npm run bench`): the time of one call at a
// time (NULL, GETATTR of the export's root, READs of 4 KiB and 128 KiB of a 1 MiB file at
// offsets that go round it) on Berth's NFS host and on nfs-ganesha, with
// the server and this client placed three ways: where the scheduler puts them, both on one
// CPU, and on two CPUs (taskset on every thread of the server and of this process). It
// separates what a call costs the server from what waking a process on another CPU costs.
// Usage: npx tsx bench/nfsRoundTrip.ts [calls per measurement, default 10000]

interface Server {
  name: string;
  pid: number;
  client: NfsClient;
  root: Buffer;
  file: Buffer;
}

const placements: { name: string; server?: string; client?: string }[] = [
  { name: 'as scheduled' },
  { name: 'one CPU', server: '0', client: '0' },
  { name: 'two CPUs', server: '0', client: '1' },
];

async function pin(pid: number, cpus: string): Promise<void> {
  await run('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
}

/** Mean µs per call of `n` calls made one after another (after n/10 untimed). */
async function perCall(n: number, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < n / 10; i++) await call();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await call();
  return ((performance.now() - t0) * 1000) / n;
}

/** One call of `proc` on `s`; READs step through the file (4 KiB-aligned, wrapping at its end). */
function callOf(s: Server, proc: 'NULL' | 'GETATTR' | 'READ 4K' | 'READ 128K'): () => Promise<unknown> {
  if (proc === 'NULL') return () => s.client.ping();
  if (proc === 'GETATTR') return () => s.client.getattr(s.root);
  const size = proc === 'READ 4K' ? 4096 : 128 * 1024;
  let offset = 0;
  return async () => {
    const r = await s.client.read(s.file, offset, size);
    r.release();
    offset = (offset + 3 * size) % (1 << 20);
  };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10_000);
  const all = Array.from({ length: availableParallelism() }, (_, i) => i).join(',');
  const work = await mkdtemp(join(tmpdir(), 'berth-nfsrtt-'));
  let host: ForegroundNfsHost | undefined;
  let ganesha: Ganesha | undefined;
  const servers: Server[] = [];
  try {
    await mkdir(join(work, 'b'));
    await mkdir(join(work, 'g'));
    const data = Buffer.alloc(1 << 20, 7);
    await writeFile(join(work, 'b', 'f'), data);
    await writeFile(join(work, 'g', 'f'), data);
    host = await foregroundNfsHost(['local', '--path', join(work, 'b'), '--rw', '--nfs-no-root-squash']);
    const cred = { uid: 0, gid: 0 };
    const b = new NfsClient({ host: '127.0.0.1', port: host.port, cred });
    const bRoot = await b.mount('/');
    servers.push({ name: 'berth', pid: host.child.pid!, client: b, root: bRoot, file: (await b.lookup(bRoot, 'f')).fh });
    ganesha = await startGanesha(join(work, 'g'));
    const g = new NfsClient({ host: '127.0.0.1', port: ganesha.nfsPort, mountPort: ganesha.mountPort, cred });
    const gRoot = await g.mount(ganesha.exportPath);
    servers.push({ name: 'ganesha', pid: listenerPid(ganesha.nfsPort)!, client: g, root: gRoot, file: (await g.lookup(gRoot, 'f')).fh });
    console.log(`${n} calls one at a time per figure, µs per call (mean)`);
    console.log('placement      call       berth  ganesha  berth ÷ ganesha');
    for (const p of placements) {
      for (const proc of ['NULL', 'GETATTR', 'READ 4K', 'READ 128K'] as const) {
        const us: number[] = [];
        for (const s of servers) {
          await pin(s.pid, p.server ?? all);
          await pin(process.pid, p.client ?? all);
          us.push(await perCall(n, callOf(s, proc)));
        }
        console.log(`${p.name.padEnd(14)} ${proc.padEnd(9)} ${us[0]!.toFixed(1).padStart(6)}  ${us[1]!.toFixed(1).padStart(7)}  ${(us[0]! / us[1]!).toFixed(2).padStart(8)}×`);
      }
    }
  } finally {
    await pin(process.pid, all).catch(() => {});
    for (const s of servers) await s.client.close().catch(() => {});
    await host?.stop().catch(() => {});
    await ganesha?.stop().catch(() => {});
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}

await main();
