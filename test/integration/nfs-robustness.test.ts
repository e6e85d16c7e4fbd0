import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { NfsGuest } from '../../src-main/guests/nfs.ts';
import { NfsProc, Nfsstat3 } from '../../src-main/nfs/nfs3/constants.ts';
import { NfsServer } from '../../src-main/nfs/server/NfsServer.ts';
import { waitFor } from '../helpers/berthDaemon.ts';
import { acceptStat, callBody, RawRpc } from '../helpers/rawRpc.ts';
import { XdrWriter } from '../../src-main/nfs/xdr/XdrWriter.ts';
import type { Vfs } from '../../src-main/vfs/types.ts';

// Hostile input against our NFS server over loopback: 100,000 random and mutated RPC
// records. The server must answer each or close that one connection, keep serving new
// clients, keep its memory bounded, and never show anything outside the exported folder.

const TOTAL = 100_000;
const seed = Number(process.env.NFS_FUZZ_SEED ?? Date.now() % 1_000_000);

/** mulberry32: a small seeded PRNG so a failure can be replayed with NFS_FUZZ_SEED. */
function prng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('NFS server under hostile input', () => {
  let base: string;
  let dir: string;
  let local: Vfs;
  let server: NfsServer;
  let port: number;
  let rootFh: Buffer;
  const handles: Buffer[] = [];

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'berth-nfs-fuzz-'));
    dir = join(base, 'export');
    mkdirSync(join(dir, 'sub/deeper'), { recursive: true });
    writeFileSync(join(base, 'secret.txt'), 'OUTSIDE-SECRET');
    writeFileSync(join(dir, 'file.txt'), 'inside\n');
    writeFileSync(join(dir, 'sub/deeper/x'), 'x');
    symlinkSync('../secret.txt', join(dir, 'escape'));
    symlinkSync(join(base, 'secret.txt'), join(dir, 'abs-escape'));
    local = await openLocalGuest({ kind: 'local', path: dir, readOnly: false });
    server = new NfsServer(local, { readOnly: false, onError: () => {} });
    port = (await server.listen(0)).port;
    const raw = new RawRpc(port);
    await raw.ready();
    raw.send(callBody(1, 100005, 3, 1, (w) => w.string('/')));
    const r = (await raw.reply(1))!;
    acceptStat(r);
    expect(r.uint32()).toBe(0);
    rootFh = Buffer.from(r.opaque(64));
    handles.push(rootFh);
    for (const [i, name] of ['file.txt', 'sub', 'escape', 'abs-escape'].entries()) {
      raw.send(callBody(10 + i, 100003, 3, NfsProc.LOOKUP, (w) => w.opaque(rootFh).string(name)));
      const lr = (await raw.reply(10 + i))!;
      acceptStat(lr);
      expect(lr.uint32()).toBe(0);
      handles.push(Buffer.from(lr.opaque(64)));
    }
    raw.close();
  });

  afterAll(async () => {
    await server?.close();
    await local?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('answers wrong programs, versions, procedures and garbage with the right RPC errors', async () => {
    const raw = new RawRpc(port);
    await raw.ready();
    const cases: [Buffer, number | 'denied'][] = [
      [callBody(101, 100099, 3, 0), 1], // PROG_UNAVAIL
      [callBody(102, 100003, 2, 0), 2], // PROG_MISMATCH
      [callBody(103, 100003, 3, 22), 3], // PROC_UNAVAIL
      [callBody(104, 100003, 3, NfsProc.READ, (w) => w.opaque(rootFh)), 4], // GARBAGE_ARGS (truncated)
      [callBody(105, 100003, 3, 0, () => {}, { rpcvers: 3 }), 'denied'], // RPC_MISMATCH
      [callBody(106, 100003, 3, 0, () => {}, { cred: { flavor: 6 } }), 'denied'], // AUTH_ERROR
      [callBody(107, 100003, 3, NfsProc.LOOKUP, (w) => w.uint32(0xffff_ffff)), 4], // huge handle length
    ];
    for (const [rec] of cases) raw.send(rec);
    for (const [rec, want] of cases) {
      const r = await raw.reply(rec.readUInt32BE(0));
      expect(r, `xid ${rec.readUInt32BE(0)}`).toBeDefined();
      expect(acceptStat(r!), `xid ${rec.readUInt32BE(0)}`).toBe(want);
    }
    raw.close();
  });

  it('refuses bogus handles and names that would leave the export', async () => {
    const raw = new RawRpc(port);
    await raw.ready();
    const status = async (xid: number, proc: number, args: (w: XdrWriter) => void): Promise<number> => {
      raw.send(callBody(xid, 100003, 3, proc, args));
      const r = (await raw.reply(xid))!;
      expect(acceptStat(r)).toBe(0);
      return r.uint32();
    };
    expect(await status(201, NfsProc.GETATTR, (w) => w.opaque(Buffer.alloc(20, 7)))).toBe(Nfsstat3.BADHANDLE);
    const forged = Buffer.from(rootFh);
    forged.writeBigUInt64BE(123456789n, 12);
    expect(await status(202, NfsProc.GETATTR, (w) => w.opaque(forged))).toBe(Nfsstat3.STALE);
    for (const [i, name] of ['a/b', '../secret.txt', 'x\0y', 'x'.repeat(300), ''].entries()) {
      const s = await status(210 + i, NfsProc.LOOKUP, (w) => w.opaque(rootFh).string(name));
      expect([Nfsstat3.INVAL, Nfsstat3.NAMETOOLONG, Nfsstat3.NOENT], JSON.stringify(name)).toContain(s);
    }
    // ".." at the root is the root itself.
    raw.send(callBody(220, 100003, 3, NfsProc.LOOKUP, (w) => w.opaque(rootFh).string('..')));
    const up = (await raw.reply(220))!;
    acceptStat(up);
    expect(up.uint32()).toBe(0);
    expect(Buffer.from(up.opaque(64)).equals(rootFh)).toBe(true);
    // Reading through an escaping symlink's handle gives nothing from outside.
    for (const [i, fh] of [handles[3]!, handles[4]!].entries()) {
      raw.send(callBody(230 + i, 100003, 3, NfsProc.READ, (w) => w.opaque(fh).uint64(0).uint32(100)));
      const rr = (await raw.reply(230 + i))!;
      acceptStat(rr);
      const st = rr.uint32();
      expect(st).not.toBe(0);
    }
    for (const [i, p] of ['/..', '/../', '/sub/../..', '/etc'].entries()) {
      raw.send(callBody(240 + i, 100005, 3, 1, (w) => w.string(p)));
      const mr = (await raw.reply(240 + i))!;
      acceptStat(mr);
      expect(mr.uint32(), p).not.toBe(0);
    }
    raw.close();
  });

  it('closes a connection that announces an oversized record, and only that one', async () => {
    const bad = new RawRpc(port);
    const good = new RawRpc(port);
    await Promise.all([bad.ready(), good.ready()]);
    bad.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(await bad.whenClosed()).toBe(true);
    good.send(callBody(301, 100003, 3, 0));
    expect(acceptStat((await good.reply(301))!)).toBe(0);
    good.close();
  });

  it(`survives ${TOTAL.toLocaleString('en')} random and mutated records (seed ${seed})`, async () => {
    const rnd = prng(seed);
    const int = (n: number): number => Math.floor(rnd() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    const names = ['file.txt', 'sub', '..', '.', 'a/b', 'x\0y', '', 'x'.repeat(256), 'new-' + 'n', 'escape', '../secret.txt', 'deeper', 'caf\udce9', '..\udcff'];
    const nums = [0, 1, 4096, 0x7fff_ffff, 0xffff_ffff];
    const handle = (): Buffer => {
      const k = int(6);
      if (k < 3) return pick(handles);
      if (k === 3) return Buffer.from(Array.from({ length: int(65) }, () => int(256)));
      const h = Buffer.from(pick(handles));
      const at = int(h.length);
      h[at] = (h[at] ?? 0) ^ (1 << int(8));
      return h;
    };
    const args = (w: XdrWriter): void => {
      const parts = int(6);
      for (let i = 0; i < parts; i++) {
        const k = int(6);
        if (k === 0) w.opaque(handle());
        else if (k === 1) w.string(pick(names));
        else if (k === 2) w.uint32(pick(nums));
        else if (k === 3) w.uint64(rnd() < 0.5 ? 0xffff_ffff_ffff_ffffn : BigInt(int(1 << 30)));
        else if (k === 4) w.uint32(int(8));
        else w.fixedOpaque(Buffer.from(Array.from({ length: int(40) }, () => int(256))));
      }
    };
    const record = (xid: number): Buffer => {
      const k = int(10);
      if (k < 6) return callBody(xid, rnd() < 0.9 ? 100003 : 100005, rnd() < 0.95 ? 3 : int(5), int(24), args);
      if (k < 8) {
        const rec = callBody(xid, 100003, 3, int(22), args);
        const m = Buffer.from(rec);
        for (let i = 0, n = 1 + int(4); i < n; i++) {
          const at = 8 + int(Math.max(1, m.length - 8)); // keep xid and msg_type so the reply is expected
          if (at < m.length) m[at] = int(256);
        }
        return rnd() < 0.5 ? m.subarray(0, 8 + int(m.length - 7)) : m;
      }
      if (k === 8) return callBody(xid, int(0xffff_ffff), int(10), int(100));
      const w = new XdrWriter();
      w.uint32(xid).uint32(0);
      for (let i = 0, n = int(30); i < n; i++) w.uint32(rnd() < 0.5 ? int(256) : 0xffff_ffff);
      return w.toBuffer();
    };

    const rssBefore = process.memoryUsage().rss;
    let sent = 0;
    let answered = 0;
    let closedConnections = 0;
    let xid = 1_000_000;
    const started = Date.now();
    const BATCH = 2_000;
    const connections = 4;
    const batches = Math.ceil(TOTAL / BATCH / connections);
    for (let b = 0; b < batches; b++) {
      await Promise.all(
        Array.from({ length: connections }, async () => {
          const raw = new RawRpc(port);
          await raw.ready();
          const xids: number[] = [];
          for (let i = 0; i < BATCH && sent < TOTAL; i++, sent++) {
            const x = xid++;
            xids.push(x);
            raw.send(record(x));
          }
          for (const x of xids) {
            const r = await raw.reply(x, 30_000);
            if (r) answered++;
            else break;
          }
          // Every other batch ends with a record no server can answer (too short for an
          // xid, or not a call): the server must close that connection.
          const ender = int(4);
          if (ender < 2 && !raw.closed) {
            raw.send(ender === 0 ? Buffer.from([1, 2, 3]) : new XdrWriter().uint32(xid++).uint32(1).uint32(0).toBuffer());
            expect(await raw.whenClosed()).toBe(true);
            closedConnections++;
          }
          raw.close();
        }),
      );
    }
    const elapsed = Date.now() - started;
    console.log(`fuzz seed ${seed}: ${sent} records, ${answered} answered, ${closedConnections} connections closed by the server, ${elapsed} ms`);
    expect(sent).toBe(TOTAL);
    expect(answered).toBe(TOTAL);

    // A fresh client still works and sees the right bytes.
    const vfs = await NfsGuest.open({ kind: 'nfs', server: `/ip4/127.0.0.1/tcp/${port}`, export: '/' });
    try {
      const h = await vfs.open('/sub/deeper/x', {}, { signal: AbortSignal.timeout(10_000) });
      expect(Buffer.from(await h.read(0, 10, { signal: AbortSignal.timeout(10_000) })).toString()).toBe('x');
      await h.close();
    } finally {
      await vfs.close();
    }
    // Nothing outside the export was touched, and memory stayed bounded.
    expect(readdirSync(base).sort()).toEqual(['export', 'secret.txt']);
    expect(readFileSync(join(base, 'secret.txt'), 'utf8')).toBe('OUTSIDE-SECRET');
    expect(server.ctx.handles.size).toBeLessThan(10_000);
    const grown = process.memoryUsage().rss - rssBefore;
    expect(grown).toBeLessThan(300 * 1024 * 1024);
    // Every client closed its connection; the server lets go of each once it sees the close.
    await waitFor(() => server.connectionCount === 0, 30_000, 'the server to drop every closed connection');
  });
});
