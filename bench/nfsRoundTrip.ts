import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NfsClient } from '../src-main/nfs/client/NfsClient.ts';
import { startGanesha, type Ganesha } from '../test/helpers/ganesha.ts';
import { run } from './lib/measure.ts';
import { foregroundNfsHost, listenerPid, type ForegroundNfsHost } from './lib/proc.ts';

// Profiling aid for the NFS host (not part of `npm run bench`): the time of one call at a
// time, NULL and GETATTR of the export's root, on Berth's NFS host and on nfs-ganesha, with
// the server and this client placed three ways: where the scheduler puts them, both on one
// CPU, and on two CPUs (taskset on every thread of the server and of this process). It
// separates what a call costs the server from what waking a process on another CPU costs.
// Usage: npx tsx bench/nfsRoundTrip.ts [calls per measurement, default 10000]

interface Server {
  name: string;
  pid: number;
  client: NfsClient;
  root: Buffer;
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
    host = await foregroundNfsHost(['local', '--path', join(work, 'b'), '--rw', '--nfs-no-root-squash']);
    const cred = { uid: 0, gid: 0 };
    const b = new NfsClient({ host: '127.0.0.1', port: host.port, cred });
    servers.push({ name: 'berth', pid: host.child.pid!, client: b, root: await b.mount('/') });
    ganesha = await startGanesha(join(work, 'g'));
    const g = new NfsClient({ host: '127.0.0.1', port: ganesha.nfsPort, mountPort: ganesha.mountPort, cred });
    servers.push({ name: 'ganesha', pid: listenerPid(ganesha.nfsPort)!, client: g, root: await g.mount(ganesha.exportPath) });
    console.log(`${n} calls one at a time per figure, µs per call (mean)`);
    console.log('placement      call     berth  ganesha  berth ÷ ganesha');
    for (const p of placements) {
      for (const proc of ['NULL', 'GETATTR'] as const) {
        const us: number[] = [];
        for (const s of servers) {
          await pin(s.pid, p.server ?? all);
          await pin(process.pid, p.client ?? all);
          us.push(await perCall(n, () => (proc === 'NULL' ? s.client.ping() : s.client.getattr(s.root))));
        }
        console.log(`${p.name.padEnd(14)} ${proc.padEnd(7)} ${us[0]!.toFixed(1).padStart(6)}  ${us[1]!.toFixed(1).padStart(7)}  ${(us[0]! / us[1]!).toFixed(2).padStart(8)}×`);
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
