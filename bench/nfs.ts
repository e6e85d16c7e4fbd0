import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestSpecSchema } from '../src-shared/mountSpec.ts';
import { openGuest } from '../src-main/guests/index.ts';
import { wrapGuest } from '../src-main/vfs/wrapGuest.ts';
import { readdirBatches } from '../src-main/vfs/listing.ts';
import type { Vfs } from '../src-main/vfs/types.ts';
import { startGanesha, type Ganesha } from '../test/helpers/ganesha.ts';
import { load, mibps, run, timePair } from './lib/measure.ts';
import { cpuMs, foregroundNfsHost, listenerPid, type ForegroundNfsHost } from './lib/proc.ts';
import type { Row } from './lib/report.ts';

// Issue 4's benchmark: Berth's NFSv3 server and client against nfs-ganesha (VFS FSAL)
// and libnfs-utils, in the same run, on the same folder on local disk (PEERS.md).
// Warm page cache on both sides: the file is read from memory, so the figures compare
// the two NFS stacks, not the disk.

const FILE_MIB = Number(process.env.BENCH_FILE_MIB ?? 256);
const DIRS = 10;
const PER_DIR = 1_000;
/** What a FUSE host asks a guest for at a time (libfuse 2; PERF.md). */
const READ_SIZE = 128 * 1024;

async function writeRandomFile(path: string, mib: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let i = 0; i < mib; i++) await fh.write(randomBytes(1 << 20));
  } finally {
    await fh.close();
  }
}

/** Opens Berth's NFS guest on an export, as a mount would (deadlines and caches included). */
async function openClient(ganesha: Ganesha): Promise<Vfs> {
  // ganesha serves MOUNT on its own port: name it, so no portmapper is involved (another
  // ganesha on this machine can drop the portmapper's MOUNT registration).
  const spec = GuestSpecSchema.parse({ kind: 'nfs', server: `/ip4/127.0.0.1/tcp/${ganesha.nfsPort}`, export: ganesha.exportPath, mountPort: ganesha.mountPort });
  return wrapGuest(await openGuest(spec, {}));
}

/** Reads a whole file through the Vfs in FUSE-sized requests, one after another; returns its size. */
async function readWhole(vfs: Vfs, path: string): Promise<number> {
  const signal = AbortSignal.timeout(120_000);
  const h = await vfs.open(path, {}, { signal });
  let pos = 0;
  try {
    for (;;) {
      const b = await h.read(pos, READ_SIZE, { signal });
      pos += b.length;
      if (b.length < READ_SIZE) break;
    }
  } finally {
    await h.close();
  }
  return pos;
}

/** Counts every entry below `path`, depth first, through the Vfs in batches, as the FUSE and NFS hosts list. */
async function walk(vfs: Vfs, path: string, signal: AbortSignal): Promise<number> {
  let n = 0;
  for await (const batch of readdirBatches(vfs, path, { signal })) {
    for (const e of batch) {
      n++;
      if (e.attr.type === 'dir') n += await walk(vfs, `${path === '/' ? '' : path}/${e.name}`, signal);
    }
  }
  return n;
}

/** File names `f0000`… that `nfs-ls -R` printed. */
function countListed(out: string): number {
  return out.split('\n').filter((l) => /\bf\d{4}\.txt\b/.test(l)).length;
}

/** Runs the NFS comparisons; returns table rows and notes on where time goes. */
export async function benchNfs(runs: number): Promise<{ rows: Row[]; notes: string[] }> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-nfs-'));
  const data = join(work, 'data');
  await mkdir(data);
  let ganesha: Ganesha | undefined;
  let ganeshaFresh: Ganesha | undefined;
  let host: ForegroundNfsHost | undefined;
  const hosts: ForegroundNfsHost[] = [];
  const sinks: string[] = [];
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    const size = FILE_MIB << 20;
    await writeRandomFile(join(data, 'big.bin'), FILE_MIB);
    for (let d = 0; d < DIRS; d++) {
      const dir = join(data, 'tree', `d${String(d).padStart(2, '0')}`);
      await mkdir(dir, { recursive: true });
      for (let f = 0; f < PER_DIR; f++) {
        const i = d * PER_DIR + f;
        await writeFile(join(dir, `f${String(i).padStart(4, '0')}.txt`), `file ${i}\n`);
      }
    }
    const files = DIRS * PER_DIR;

    ganesha = await startGanesha(data);
    // The same export without attribute caching: ganesha's mdcache keeps attributes 60 s by
    // default (a file changed outside shows its old size that long), Berth's local guest
    // keeps them only while inotify proves them fresh; this one reads them afresh
    // (Attr_Expiration_Time = 0).
    ganeshaFresh = await startGanesha(data, { exportParams: 'Attr_Expiration_Time = 0;' });
    host = await foregroundNfsHost(['local', '--path', data, '--read-only']);
    const ganeshaPid = listenerPid(ganesha.nfsPort);
    const ganeshaFreshPid = listenerPid(ganeshaFresh.nfsPort);
    const hostPid = host.child.pid!;
    const g = (): Ganesha => ganesha!;
    const port = host.port;
    // libnfs mounts a file URL's folder part, so a file at our export root is "//name";
    // a folder URL mounts the folder itself.
    const q = `?version=3&nfsport=${port}&mountport=${port}`;
    const oursFile = (name: string): string => `nfs://127.0.0.1//${name}${q}`;
    const oursDir = (name: string): string => `nfs://127.0.0.1/${name}${q}`;
    const theirs = (path: string): string => g().url(`/${path}`);
    const cpu = async (pid: number | undefined): Promise<number> => (pid ? cpuMs(pid) : 0);
    const per = (total: number): string => (total / (runs + 1)).toFixed(0);
    // nfs-cp cannot write to /dev/null ("Failed to open"): copy to tmpfs and delete it.
    const sink = existsSync('/dev/shm') ? await mkdtemp('/dev/shm/berth-bench-nfs-') : work;
    sinks.push(sink);
    let copies = 0;
    const nfsCp = async (url: string): Promise<void> => {
      const dest = join(sink, `copy-${copies++}.bin`);
      try {
        await run('nfs-cp', [url, dest]);
        const got = (await stat(dest)).size;
        if (got !== size) throw new Error(`nfs-cp ${url} copied ${got} bytes, expected ${size}`);
      } finally {
        await rm(dest, { force: true });
      }
    };

    // 1. nfs-cp of the big file from our host vs from ganesha.
    let hostCpu = 0;
    let ganeshaCpu = 0;
    const cpLoad = load();
    const [cpOurs, cpGanesha] = await timePair(
      async () => {
        const c0 = await cpu(hostPid);
        await nfsCp(oursFile('big.bin'));
        hostCpu += (await cpu(hostPid)) - c0;
      },
      async () => {
        const c0 = await cpu(ganeshaPid);
        await nfsCp(theirs('big.bin'));
        ganeshaCpu += (await cpu(ganeshaPid)) - c0;
      },
      { runs },
    );
    rows.push({
      what: `\`nfs-cp\` of a ${FILE_MIB} MiB file, warm page cache`,
      berth: '`berth mount nfs local` (NFS host, local guest)',
      peer: 'nfs-ganesha 4 (VFS FSAL) exporting the same folder',
      berthMs: cpOurs,
      peerMs: cpGanesha,
      ratio: cpGanesha.median / cpOurs.median,
      goal: '≥ 1.0×',
      extra: `${mibps(size, cpOurs.median).toFixed(0)} vs ${mibps(size, cpGanesha.median).toFixed(0)} MiB/s; load ${cpLoad}–${load()}`,
    });
    notes.push(
      `\`nfs-cp\` to tmpfs, server CPU per run: Berth's host ${per(hostCpu)} ms, ganesha ${per(ganeshaCpu)} ms` +
        `${ganeshaPid ? '' : ' (ganesha pid not found: its CPU is not counted)'}.`,
    );

    // 2. Berth's NFS client reading the same file from ganesha vs nfs-cp from ganesha.
    let clientCpu = 0;
    let ganeshaForClient = 0;
    let ganeshaForCp = 0;
    const readLoad = load();
    const [readClient, readCp] = await timePair(
      async () => {
        const [c0, g0] = [process.cpuUsage(), await cpu(ganeshaPid)];
        const vfs = await openClient(g());
        try {
          const n = await readWhole(vfs, '/big.bin');
          if (n !== size) throw new Error(`the nfs guest read ${n} bytes, expected ${size}`);
        } finally {
          await vfs.close();
        }
        const c = process.cpuUsage(c0);
        clientCpu += (c.user + c.system) / 1000;
        ganeshaForClient += (await cpu(ganeshaPid)) - g0;
      },
      async () => {
        const g0 = await cpu(ganeshaPid);
        await nfsCp(theirs('big.bin'));
        ganeshaForCp += (await cpu(ganeshaPid)) - g0;
      },
      { runs },
    );
    rows.push({
      what: `read a ${FILE_MIB} MiB file from nfs-ganesha`,
      berth: `Berth's nfs guest (mount, ${READ_SIZE >> 10} KiB reads through the Vfs, in-process)`,
      peer: '`nfs-cp` (libnfs) to tmpfs',
      berthMs: readClient,
      peerMs: readCp,
      ratio: readCp.median / readClient.median,
      goal: '≥ 0.8×',
      extra: `${mibps(size, readClient.median).toFixed(0)} vs ${mibps(size, readCp.median).toFixed(0)} MiB/s; load ${readLoad}–${load()}`,
    });
    notes.push(
      `Reading from ganesha, CPU per run: Berth's client ${per(clientCpu)} ms with ganesha ${per(ganeshaForClient)} ms; ` +
        `with \`nfs-cp\` ganesha used ${per(ganeshaForCp)} ms.`,
    );

    // 3. Recursive listing of the 10,000-file tree: nfs-ls -R on our host vs on ganesha.
    let listedOurs = 0;
    let listedTheirs = 0;
    let hostLsCpu = 0;
    let ganeshaLsCpu = 0;
    const lsLoad = load();
    const [lsOurs, lsGanesha] = await timePair(
      async () => {
        const c0 = await cpu(hostPid);
        listedOurs = countListed(await run('nfs-ls', ['-R', oursDir('tree')]));
        hostLsCpu += (await cpu(hostPid)) - c0;
      },
      async () => {
        const c0 = await cpu(ganeshaPid);
        listedTheirs = countListed(await run('nfs-ls', ['-R', theirs('tree')]));
        ganeshaLsCpu += (await cpu(ganeshaPid)) - c0;
      },
      { runs },
    );
    if (listedOurs !== files || listedTheirs !== files) throw new Error(`nfs-ls -R listed ${listedOurs} files on Berth's host and ${listedTheirs} on ganesha, expected ${files}`);
    rows.push({
      what: `recursive listing, ${files.toLocaleString('en')} files in ${DIRS} folders`,
      berth: '`nfs-ls -R` on `berth mount nfs local`',
      peer: '`nfs-ls -R` on nfs-ganesha',
      berthMs: lsOurs,
      peerMs: lsGanesha,
      ratio: lsGanesha.median / lsOurs.median,
      goal: '≥ 1.0×',
      extra: `load ${lsLoad}–${load()}`,
    });

    // 3a. The same against ganesha reading attributes afresh too (no old sizes on either side).
    let freshCpu = 0;
    let hostLsCpu2 = 0;
    const freshLoad = load();
    const freshUrl = (path: string): string => ganeshaFresh!.url(`/${path}`);
    const [lsOurs2, lsFresh] = await timePair(
      async () => {
        const c0 = await cpu(hostPid);
        listedOurs = countListed(await run('nfs-ls', ['-R', oursDir('tree')]));
        hostLsCpu2 += (await cpu(hostPid)) - c0;
      },
      async () => {
        const c0 = await cpu(ganeshaFreshPid);
        listedTheirs = countListed(await run('nfs-ls', ['-R', freshUrl('tree')]));
        freshCpu += (await cpu(ganeshaFreshPid)) - c0;
      },
      { runs },
    );
    if (listedOurs !== files || listedTheirs !== files) throw new Error(`nfs-ls -R listed ${listedOurs} files on Berth's host and ${listedTheirs} on ganesha, expected ${files}`);
    rows.push({
      what: `recursive listing, ${files.toLocaleString('en')} files, fresh attributes on both sides`,
      berth: '`nfs-ls -R` on `berth mount nfs local`',
      peer: '`nfs-ls -R` on nfs-ganesha with `Attr_Expiration_Time = 0`',
      berthMs: lsOurs2,
      peerMs: lsFresh,
      ratio: lsFresh.median / lsOurs2.median,
      extra: `load ${freshLoad}–${load()}`,
    });
    notes.push(
      `Listing, server CPU per \`nfs-ls -R\`: Berth's host ${per(hostLsCpu)} ms (${per(hostLsCpu2)} ms in the fresh-attributes row), ganesha ${per(ganeshaLsCpu)} ms, ganesha without attribute caching ${per(freshCpu)} ms. ` +
        "Berth's local guest keeps attributes and listings only while inotify proves them fresh (a folder changes under Berth: no old size with new bytes, issue 9; guests/localAttrCache.ts), so the first listing lstats every entry and later ones answer from memory unless something changed; " +
        "ganesha's mdcache keeps attributes 60 s by default, and showed a file's old size after it changed (the row with `Attr_Expiration_Time = 0` is the like-for-like one).",
    );

    // 3b. The same with a 60 s metadata cache on Berth's side, as ganesha keeps attributes.
    const cached = await foregroundNfsHost(['local', '--path', data, '--read-only', '--cache-expiry', '60s']);
    hosts.push(cached);
    const cq = `?version=3&nfsport=${cached.port}&mountport=${cached.port}`;
    const cachedLoad = load();
    const [lsCached, lsGanesha2] = await timePair(
      async () => {
        listedOurs = countListed(await run('nfs-ls', ['-R', `nfs://127.0.0.1/tree${cq}`]));
      },
      async () => {
        listedTheirs = countListed(await run('nfs-ls', ['-R', theirs('tree')]));
      },
      { runs },
    );
    await cached.stop();
    if (listedOurs !== files || listedTheirs !== files) throw new Error(`nfs-ls -R listed ${listedOurs} files on Berth's host and ${listedTheirs} on ganesha, expected ${files}`);
    rows.push({
      what: `recursive listing, ${files.toLocaleString('en')} files, metadata cached 60 s`,
      berth: '`nfs-ls -R` on `berth mount nfs local --cache-expiry 60s`',
      peer: '`nfs-ls -R` on nfs-ganesha',
      berthMs: lsCached,
      peerMs: lsGanesha2,
      ratio: lsGanesha2.median / lsCached.median,
      extra: `load ${cachedLoad}–${load()}`,
    });

    // 4. Berth's client walking the same tree on ganesha vs nfs-ls -R on ganesha.
    let walked = 0;
    let walkCpu = 0;
    const walkLoad = load();
    const [walkClient, walkLs] = await timePair(
      async () => {
        const c0 = process.cpuUsage();
        const vfs = await openClient(g());
        try {
          walked = await walk(vfs, '/tree', AbortSignal.timeout(120_000));
        } finally {
          await vfs.close();
        }
        const c = process.cpuUsage(c0);
        walkCpu += (c.user + c.system) / 1000;
      },
      async () => {
        listedTheirs = countListed(await run('nfs-ls', ['-R', theirs('tree')]));
      },
      { runs },
    );
    if (walked !== files + DIRS) throw new Error(`the nfs guest walked ${walked} entries, expected ${files + DIRS}`);
    rows.push({
      what: `recursive listing, ${files.toLocaleString('en')} files in ${DIRS} folders, from nfs-ganesha`,
      berth: "Berth's nfs guest: mount, recursive listing (READDIRPLUS) through the Vfs in batches, as its hosts list",
      peer: '`nfs-ls -R` (libnfs)',
      berthMs: walkClient,
      peerMs: walkLs,
      ratio: walkLs.median / walkClient.median,
      goal: '≥ 1.0×',
      extra: `load ${walkLoad}–${load()}`,
    });
    notes.push(`Berth's client walking the tree used ${per(walkCpu)} ms CPU per run (mount included); it asks for 128 KiB READDIRPLUS pages and the next page while the current one is consumed.`);
    notes.push(
      "The row with `--cache-expiry 60s` gives Berth's local guest a metadata cache like ganesha's (60 s): listings then come from memory, at the price of old sizes for up to a minute. Every run is a fresh client mount.",
    );
    return { rows, notes };
  } finally {
    for (const h of [host, ...hosts]) await h?.stop().catch(() => {});
    await ganesha?.stop().catch(() => {});
    await ganeshaFresh?.stop().catch(() => {});
    for (const d of [...sinks, work]) await rm(d, { recursive: true, force: true });
  }
}
