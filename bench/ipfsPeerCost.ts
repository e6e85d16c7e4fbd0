import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { KuboBlockClient } from '../src-main/ipfs/KuboBlockClient.ts';
import { startIpfsPeer } from '../test/helpers/ipfsPeer.ts';
import { dropCaches } from './lib/measure.ts';
import { cpuMs } from './lib/proc.ts';

// Issue 11: what it costs the js-ipfs peer to serve one file, by the way it is asked: one
// `cat`, one `dag/export` CAR, every block by `block/get` (8 in flight, as Berth asks), or
// four `cat` ranges at once. The peer's CPU is the cold read's floor on a 2-core machine,
// so a way that costs it less per byte would be the one to read by. The ways alternate,
// page cache dropped before each; the first round is left out (the peer's cold JIT).
// Run alone: `npx tsx bench/ipfsPeerCost.ts` (BENCH_FILE_MIB, BENCH_RUNS). Prints a table;
// writes nothing.

const MIB = Number(process.env.BENCH_FILE_MIB ?? 256);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** Body bytes of one POST to the peer's RPC API, read and dropped. */
function post(apiUrl: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${apiUrl}/api/v0/${path}`, { method: 'POST' }, (res) => {
      let n = 0;
      res.on('data', (b: Buffer) => (n += b.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`${path}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const peer = await startIpfsPeer();
const blocks = new KuboBlockClient(peer.apiUrl, { maxConnections: 8 });
try {
  const size = MIB << 20;
  const { cid } = await peer.client.add(randomBytes(size));
  const root = cid.toString();
  const all = [root];
  for await (const r of peer.client.refs(cid, { recursive: true })) all.push(r.ref);
  const ways: Record<string, () => Promise<number>> = {
    cat: () => post(peer.apiUrl, `cat?arg=${root}`),
    'dag/export (CAR)': () => post(peer.apiUrl, `dag/export?arg=${root}`),
    'block/get, 8 in flight': async () => {
      const signal = new AbortController().signal;
      const got = await Promise.all(all.map((c) => blocks.get(c, signal)));
      return got.reduce((n, b) => n + b.length, 0);
    },
    'cat, 4 ranges at once': async () => {
      const part = Math.ceil(size / 4);
      const got = await Promise.all([0, 1, 2, 3].map((i) => post(peer.apiUrl, `cat?arg=${root}&offset=${i * part}&length=${part}`)));
      return got.reduce((a, b) => a + b, 0);
    },
  };
  const cpu = new Map<string, number[]>();
  const wall = new Map<string, number[]>();
  for (let round = 0; round <= RUNS; round++) {
    for (const [name, way] of Object.entries(ways)) {
      await dropCaches();
      const [c0, t0] = [await cpuMs(peer.pid!), performance.now()];
      const n = await way();
      const [c1, t1] = [await cpuMs(peer.pid!), performance.now()];
      if (n < size) throw new Error(`${name}: ${n} bytes, expected at least ${size}`);
      if (round === 0) continue;
      cpu.set(name, [...(cpu.get(name) ?? []), c1 - c0]);
      wall.set(name, [...(wall.get(name) ?? []), t1 - t0]);
    }
  }
  console.log(`| ${MIB} MiB, ${all.length} blocks, ${RUNS} runs | peer CPU median (runs) | wall median |\n|---|---|---|`);
  for (const name of Object.keys(ways)) {
    const c = cpu.get(name)!;
    console.log(`| ${name} | ${median(c).toFixed(0)} ms (${c.map((x) => x.toFixed(0)).join(', ')}) | ${median(wall.get(name)!).toFixed(0)} ms |`);
  }
} finally {
  blocks.close();
  await peer.stop();
}
