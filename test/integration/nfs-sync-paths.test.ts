import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { readFattr3 } from '../../src-main/nfs/nfs3/attrs.ts';
import { NfsProc, Nfsstat3, StableHow } from '../../src-main/nfs/nfs3/constants.ts';
import { NfsServer } from '../../src-main/nfs/server/NfsServer.ts';
import { XdrReader } from '../../src-main/nfs/xdr/XdrReader.ts';
import { XdrWriter } from '../../src-main/nfs/xdr/XdrWriter.ts';
import { FsError } from '../../src-main/vfs/FsError.ts';
import type { CallOpts, Vfs } from '../../src-main/vfs/types.ts';
import { wrapGuest } from '../../src-main/vfs/wrapGuest.ts';
import { callBody, RawRpc } from '../helpers/rawRpc.ts';

// The NFS host answers the calls it can from the local guest's synchronous face (GETATTR,
// LOOKUP, ACCESS, SETATTR, CREATE, MKDIR, REMOVE, RMDIR, RENAME, READLINK, WRITE, READ,
// READDIRPLUS; now.ts; COMMIT decided so, answered once its flush is done). Here
// the guest's async getattr/readdir are made to fail, so an answer that is right can only
// have come from the synchronous path: it must see every change made in the backing folder
// at once (no old size with new bytes, issue 9), interleave with calls that wait (each reply
// with its own xid, in order of completion), and answer a malformed call with an error.

const PROG = 100003;

/** The local guest, but once `state.strict`, its async getattr/readdir fail; its open waits `openDelay` ms. */
function syncOnly(inner: Vfs, openDelay: number, state: { strict: boolean }): Vfs {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (!state.strict) return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      if (prop === 'getattr') return () => Promise.reject(new FsError('IO', 'async getattr used'));
      if (prop === 'readdirBatches' || prop === 'readdir') {
        return () => ({
          [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new FsError('IO', 'async listing used')) }),
        });
      }
      if (prop === 'open') {
        return async (p: string, f: object, o: CallOpts) => {
          await new Promise((r) => setTimeout(r, openDelay));
          return target.open(p, f, o);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A raw RPC connection speaking NFS v3 as this process's user, its calls numbered in order. */
class Raw extends RawRpc {
  private xid = 1;

  /** Encodes one call; returns its xid and body. */
  record(prog: number, proc: number, args: (w: XdrWriter) => void): { xid: number; body: Buffer } {
    const xid = this.xid++;
    return { xid, body: callBody(xid, prog, 3, proc, args) };
  }

  /** Sends calls in one write (so the server reads them together). */
  sendCalls(...calls: { body: Buffer }[]): void {
    this.send(...calls.map((c) => c.body));
  }

  /** Sends one call and returns its reply's results (after accept_stat SUCCESS). */
  async call(prog: number, proc: number, args: (w: XdrWriter) => void): Promise<XdrReader> {
    const c = this.record(prog, proc, args);
    this.sendCalls(c);
    const { stat, r } = await this.accepted(c.xid);
    expect(stat).toBe(0);
    return r;
  }
}

describe('NFS host: calls answered synchronously', () => {
  let dir: string;
  let local: Vfs;
  let server: NfsServer;
  let raw: Raw;
  let root: Buffer;
  /** While strict, the guest's async getattr and listing fail (syncOnly). */
  const state = { strict: false };

  const lookup = async (name: string): Promise<{ status: number; fh?: Buffer }> => {
    const r = await raw.call(PROG, NfsProc.LOOKUP, (w) => w.opaque(root).string(name));
    const status = r.uint32();
    return status === 0 ? { status, fh: Buffer.from(r.opaque(64)) } : { status };
  };
  const getattr = async (fh: Buffer): Promise<{ status: number; size?: number }> => {
    const r = await raw.call(PROG, NfsProc.GETATTR, (w) => w.opaque(fh));
    const status = r.uint32();
    return status === 0 ? { status, size: readFattr3(r).size } : { status };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-nfs-sync-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'a.txt'), 'first');
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, 'sub', `f${i}`), 'x'.repeat(i));
    local = await openLocalGuest({ kind: 'local', path: dir, readOnly: false });
    // As a mount serves it (deadlines and caches), with the async calls disabled below them.
    server = new NfsServer(wrapGuest(syncOnly(local, 150, state)), { readOnly: false, auth: { rootSquash: false }, onError: () => {} });
    const port = (await server.listen(0)).port;
    raw = new Raw(port);
    await raw.ready();
    const m = await raw.call(100005, 1, (w) => w.string('/'));
    expect(m.uint32()).toBe(0);
    root = Buffer.from(m.opaque(64));
    state.strict = true; // MOUNT asks the root's attributes the async way; from here on nothing may
  });

  afterAll(async () => {
    raw?.close();
    await server?.close();
    await local?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sees every change made in the backing folder at once: sizes, removals, new names', async () => {
    const a = await lookup('a.txt');
    expect(a.status).toBe(Nfsstat3.OK);
    expect((await getattr(a.fh!)).size).toBe(5);
    writeFileSync(join(dir, 'a.txt'), 'second, longer');
    expect((await getattr(a.fh!)).size).toBe(14);
    truncateSync(join(dir, 'a.txt'), 2);
    expect((await getattr(a.fh!)).size).toBe(2);
    writeFileSync(join(dir, 'b.txt'), 'new');
    expect((await lookup('b.txt')).status).toBe(Nfsstat3.OK);
    unlinkSync(join(dir, 'b.txt'));
    expect((await lookup('b.txt')).status).toBe(Nfsstat3.NOENT);

    // A listing of a small folder: a name added outside shows up in the next one.
    const sub = (await lookup('sub')).fh!;
    const names = async (): Promise<string[]> => {
      const r = await raw.call(PROG, NfsProc.READDIRPLUS, (w) => w.opaque(sub).uint64(0).fixedOpaque(Buffer.alloc(8)).uint32(8192).uint32(65536));
      expect(r.uint32()).toBe(Nfsstat3.OK);
      if (r.bool()) readFattr3(r);
      r.uint64();
      const out: string[] = [];
      while (r.bool()) {
        r.uint64();
        out.push(r.string(255));
        r.uint64();
        if (r.bool()) readFattr3(r);
        if (r.bool()) r.opaque(64);
      }
      return out;
    };
    expect(await names()).toHaveLength(20);
    writeFileSync(join(dir, 'sub', 'g'), 'g');
    expect(await names()).toContain('g');
  });

  it('creates, writes, truncates and removes synchronously, and the folder holds exactly that', async () => {
    const c = await raw.call(PROG, NfsProc.CREATE, (w) => w.opaque(root).string('made.bin').uint32(0).bool(true).uint32(0o640).bool(false).bool(false).bool(false).uint32(0).uint32(0));
    expect(c.uint32()).toBe(Nfsstat3.OK);
    expect(c.bool()).toBe(true);
    const fh = Buffer.from(c.opaque(64));
    const write = async (offset: number, data: Buffer): Promise<void> => {
      const r = await raw.call(PROG, NfsProc.WRITE, (w) => w.opaque(fh).uint64(offset).uint32(data.length).uint32(StableHow.UNSTABLE).opaque(data));
      expect(r.uint32()).toBe(Nfsstat3.OK);
    };
    await write(0, Buffer.from('hello '));
    await write(6, Buffer.from('world'));
    expect(readFileSync(join(dir, 'made.bin'), 'utf8')).toBe('hello world');
    expect((await getattr(fh)).size).toBe(11);
    // SETATTR size (truncate): the wcc data and the next GETATTR give the new size.
    const s = await raw.call(PROG, NfsProc.SETATTR, (w) => w.opaque(fh).bool(false).bool(false).bool(false).bool(true).uint64(5).uint32(0).uint32(0).bool(false));
    expect(s.uint32()).toBe(Nfsstat3.OK);
    expect(s.bool()).toBe(false); // no pre-op attributes
    expect(s.bool()).toBe(true);
    expect(readFattr3(s).size).toBe(5);
    expect(readFileSync(join(dir, 'made.bin'), 'utf8')).toBe('hello');
    expect((await getattr(fh)).size).toBe(5);
    const m = await raw.call(PROG, NfsProc.MKDIR, (w) => w.opaque(root).string('newdir').bool(true).uint32(0o750).bool(false).bool(false).bool(false).uint32(0).uint32(0));
    expect(m.uint32()).toBe(Nfsstat3.OK);
    expect(existsSync(join(dir, 'newdir'))).toBe(true);
    const rm = await raw.call(PROG, NfsProc.REMOVE, (w) => w.opaque(root).string('made.bin'));
    expect(rm.uint32()).toBe(Nfsstat3.OK);
    const rd = await raw.call(PROG, NfsProc.RMDIR, (w) => w.opaque(root).string('newdir'));
    expect(rd.uint32()).toBe(Nfsstat3.OK);
    expect(existsSync(join(dir, 'made.bin')) || existsSync(join(dir, 'newdir'))).toBe(false);
    // The removed file's handle is stale now.
    expect((await getattr(fh)).status).toBe(Nfsstat3.STALE);
  });

  it('creates over an existing name as each mode says: GUARDED refuses, UNCHECKED truncates, EXCLUSIVE takes its own retransmission only', async () => {
    writeFileSync(join(dir, 'there.txt'), 'existing content');
    mkdirSync(join(dir, 'there.d'));
    /** CREATE in `how` (0 UNCHECKED, 1 GUARDED) with mode 0640 and, when given, a size. */
    const create = async (name: string, how: number, size?: number): Promise<number> => {
      const r = await raw.call(PROG, NfsProc.CREATE, (w) => {
        w.opaque(root).string(name).uint32(how).bool(true).uint32(0o640).bool(false).bool(false).bool(size !== undefined);
        if (size !== undefined) w.uint64(size);
        w.uint32(0).uint32(0);
      });
      return r.uint32();
    };
    const exclusive = async (name: string, verf: string): Promise<number> => (await raw.call(PROG, NfsProc.CREATE, (w) => w.opaque(root).string(name).uint32(2).fixedOpaque(Buffer.from(verf)))).uint32();
    expect(await create('there.txt', 1)).toBe(Nfsstat3.EXIST);
    expect(readFileSync(join(dir, 'there.txt'), 'utf8')).toBe('existing content');
    expect(await create('there.txt', 0)).toBe(Nfsstat3.OK);
    expect(readFileSync(join(dir, 'there.txt'), 'utf8')).toBe('existing content');
    expect(await create('there.txt', 0, 0)).toBe(Nfsstat3.OK);
    expect(readFileSync(join(dir, 'there.txt'), 'utf8')).toBe('');
    expect(await create('there.d', 0)).toBe(Nfsstat3.EXIST);
    expect(statSync(join(dir, 'there.d')).isDirectory()).toBe(true);
    expect(await exclusive('ex.bin', 'verifier')).toBe(Nfsstat3.OK);
    expect(await exclusive('ex.bin', 'verifier')).toBe(Nfsstat3.OK);
    expect(await exclusive('ex.bin', 'another!')).toBe(Nfsstat3.EXIST);
    expect(existsSync(join(dir, 'ex.bin'))).toBe(true);
  });

  it('sets and reads a file it created by its open descriptor only while its name still names it', async () => {
    const c = await raw.call(PROG, NfsProc.CREATE, (w) => w.opaque(root).string('kept.bin').uint32(0).bool(true).uint32(0o640).bool(false).bool(false).bool(false).uint32(0).uint32(0));
    expect(c.uint32()).toBe(Nfsstat3.OK);
    expect(c.bool()).toBe(true);
    const fh = Buffer.from(c.opaque(64));
    expect(c.bool()).toBe(true);
    expect(readFattr3(c).size).toBe(0);
    const w3 = await raw.call(PROG, NfsProc.WRITE, (w) => w.opaque(fh).uint64(0).uint32(3).uint32(StableHow.UNSTABLE).opaque(Buffer.from('abc')));
    expect(w3.uint32()).toBe(Nfsstat3.OK);
    /** SETATTR of the mode and mtime (to `mtimeSec` s + 5 ns); the post-op attributes it answered. */
    const setattr = async (mode: number, mtimeSec: number): Promise<{ mode: number; size: number; mtime: number }> => {
      const r = await raw.call(PROG, NfsProc.SETATTR, (w) => w.opaque(fh).bool(true).uint32(mode).bool(false).bool(false).bool(false).uint32(0).uint32(2).uint32(mtimeSec).uint32(5).bool(false));
      expect(r.uint32()).toBe(Nfsstat3.OK);
      expect(r.bool()).toBe(false);
      expect(r.bool()).toBe(true);
      const a = readFattr3(r);
      return { mode: a.mode & 0o7777, size: a.size, mtime: Math.floor(a.mtime) };
    };
    const file = join(dir, 'kept.bin');
    expect(await setattr(0o600, 1_000_000)).toEqual({ mode: 0o600, size: 3, mtime: 1_000_000_000 });
    expect(statSync(file).mode & 0o7777).toBe(0o600);
    expect(statSync(file, { bigint: true }).mtimeNs).toBe(1_000_000_000_000_005n);
    // Replaced in the backing folder while the host still holds the old file open (as an
    // editor saves): the name's new file is what GETATTR and SETATTR reach, not the old one.
    writeFileSync(join(dir, 'kept.new'), 'replacement!');
    chmodSync(join(dir, 'kept.new'), 0o644);
    renameSync(join(dir, 'kept.new'), file);
    expect((await getattr(fh)).size).toBe(12);
    expect(await setattr(0o604, 2_000_000)).toEqual({ mode: 0o604, size: 12, mtime: 2_000_000_000 });
    expect(statSync(file).mode & 0o7777).toBe(0o604);
    expect(readFileSync(file, 'utf8')).toBe('replacement!');
  });

  it('reads a file it holds open for reading from its descriptor at once, and the new file once the name is replaced', async () => {
    writeFileSync(join(dir, 'r.txt'), 'old content');
    const fh = (await lookup('r.txt')).fh!;
    const read = async (offset: number, count: number): Promise<{ status: number; text?: string; eof?: boolean }> => {
      const r = await raw.call(PROG, NfsProc.READ, (w) => w.opaque(fh).uint64(offset).uint32(count));
      const status = r.uint32();
      if (r.bool()) readFattr3(r);
      if (status !== Nfsstat3.OK) return { status };
      r.uint32();
      const eof = r.bool();
      return { status, text: Buffer.from(r.opaque(count)).toString(), eof };
    };
    // The first READ opens the file (the async way: its open waits in this guest).
    state.strict = false;
    try {
      expect(await read(0, 100)).toEqual({ status: Nfsstat3.OK, text: 'old content', eof: true });
    } finally {
      state.strict = true;
    }
    // Held open now: READs, at any offset, are answered from its descriptor, with no async call.
    expect(await read(4, 3)).toEqual({ status: Nfsstat3.OK, text: 'con', eof: false });
    writeFileSync(join(dir, 'r.txt'), 'old content, grown');
    expect(await read(11, 100)).toEqual({ status: Nfsstat3.OK, text: ', grown', eof: true });
    // Replaced by a rename (as an editor saves): the next READ gets the new file, not the
    // one still held open (reopening it takes the async way again).
    writeFileSync(join(dir, 'r.new'), 'new');
    renameSync(join(dir, 'r.new'), join(dir, 'r.txt'));
    state.strict = false;
    try {
      expect(await read(0, 100)).toEqual({ status: Nfsstat3.OK, text: 'new', eof: true });
    } finally {
      state.strict = true;
    }
  });

  it('renames synchronously, over an existing name too, and handles follow what was renamed', async () => {
    const rename = async (fromDir: Buffer, from: string, toDir: Buffer, to: string): Promise<number> =>
      (await raw.call(PROG, NfsProc.RENAME, (w) => w.opaque(fromDir).string(from).opaque(toDir).string(to))).uint32();
    writeFileSync(join(dir, 'mv-a'), 'from a');
    writeFileSync(join(dir, 'mv-b'), 'was b');
    const a = (await lookup('mv-a')).fh!;
    expect(await rename(root, 'mv-a', root, 'mv-c')).toBe(Nfsstat3.OK);
    expect(existsSync(join(dir, 'mv-a'))).toBe(false);
    expect(readFileSync(join(dir, 'mv-c'), 'utf8')).toBe('from a');
    expect((await lookup('mv-a')).status).toBe(Nfsstat3.NOENT);
    expect((await getattr(a)).size).toBe(6); // the handle now names mv-c
    // Over an existing file (as rsync and editors save): the old one is gone.
    expect(await rename(root, 'mv-c', root, 'mv-b')).toBe(Nfsstat3.OK);
    expect(readFileSync(join(dir, 'mv-b'), 'utf8')).toBe('from a');
    expect(existsSync(join(dir, 'mv-c'))).toBe(false);
    expect((await getattr(a)).size).toBe(6);
    expect(await rename(root, 'no-such', root, 'mv-d')).toBe(Nfsstat3.NOENT);
    // A folder, then a name in it by its new path; and back, into a folder it holds.
    const sub = (await lookup('sub')).fh!;
    expect(await rename(root, 'sub', root, 'sub2')).toBe(Nfsstat3.OK);
    const f3 = await raw.call(PROG, NfsProc.LOOKUP, (w) => w.opaque(sub).string('f3'));
    expect(f3.uint32()).toBe(Nfsstat3.OK);
    expect(readdirSync(join(dir, 'sub2'))).toContain('f3');
    expect(await rename(root, 'mv-b', sub, 'moved')).toBe(Nfsstat3.OK);
    expect(readFileSync(join(dir, 'sub2', 'moved'), 'utf8')).toBe('from a');
    expect(await rename(root, 'sub2', root, 'sub')).toBe(Nfsstat3.OK);
    expect(readFileSync(join(dir, 'sub', 'moved'), 'utf8')).toBe('from a');
    unlinkSync(join(dir, 'sub', 'moved'));
  });

  it('reads a symlink synchronously, and refuses READLINK of anything else', async () => {
    symlinkSync('a.txt', join(dir, 'ln'));
    const readlink = async (fh: Buffer): Promise<{ status: number; target?: string }> => {
      const r = await raw.call(PROG, NfsProc.READLINK, (w) => w.opaque(fh));
      const status = r.uint32();
      if (r.bool()) readFattr3(r);
      return status === Nfsstat3.OK ? { status, target: r.string(1024) } : { status };
    };
    expect(await readlink((await lookup('ln')).fh!)).toEqual({ status: Nfsstat3.OK, target: 'a.txt' });
    expect(await readlink((await lookup('a.txt')).fh!)).toEqual({ status: Nfsstat3.INVAL });
  });

  it('answers calls that wait and calls answered at once, pipelined, each with its own xid, in order of completion', async () => {
    const sub = (await lookup('sub')).fh!;
    const fhs: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await raw.call(PROG, NfsProc.LOOKUP, (w) => w.opaque(sub).string(`f${i}`));
      expect(r.uint32()).toBe(Nfsstat3.OK);
      fhs.push(Buffer.from(r.opaque(64)));
    }
    // A READ of a file not open yet waits (its open takes 150 ms here); the GETATTRs behind it do not.
    state.strict = false; // the READ waits on an async open, and a lone READ's access check reads attributes the async way
    const read = raw.record(PROG, NfsProc.READ, (w) => w.opaque(fhs[19]!).uint64(0).uint32(100));
    const gets = fhs.map((fh) => raw.record(PROG, NfsProc.GETATTR, (w) => w.opaque(fh)));
    const before = raw.order.length;
    raw.sendCalls(read, ...gets);
    const { stat: readStat, r: rr } = await raw.accepted(read.xid);
    expect(readStat).toBe(0);
    expect(rr.uint32()).toBe(Nfsstat3.OK);
    if (rr.bool()) readFattr3(rr);
    expect(rr.uint32()).toBe(19);
    for (const [i, g] of gets.entries()) {
      const { stat, r } = await raw.accepted(g.xid);
      expect(stat).toBe(0);
      expect(r.uint32()).toBe(Nfsstat3.OK);
      expect(readFattr3(r).size, `f${i}`).toBe(i);
    }
    const order = raw.order.slice(before);
    expect(order).toHaveLength(21);
    expect(order.at(-1)).toBe(read.xid);
    expect(order.slice(0, 20)).toEqual(gets.map((g) => g.xid));
  });

  it('commits what was written: the write verifier and the size after, every one of 100 pipelined COMMITs answered, and a file removed STALE', async () => {
    const c = await raw.call(PROG, NfsProc.CREATE, (w) => w.opaque(root).string('committed.bin').uint32(0).bool(true).uint32(0o640).bool(false).bool(false).bool(false).uint32(0).uint32(0));
    expect(c.uint32()).toBe(Nfsstat3.OK);
    expect(c.bool()).toBe(true);
    const fh = Buffer.from(c.opaque(64));
    const wr = await raw.call(PROG, NfsProc.WRITE, (w) => w.opaque(fh).uint64(0).uint32(6000).uint32(StableHow.UNSTABLE).opaque(Buffer.alloc(6000, 1)));
    expect(wr.uint32()).toBe(Nfsstat3.OK);
    if (wr.bool()) wr.skip(24); // pre-op: size, mtime, ctime
    expect(wr.bool()).toBe(true);
    readFattr3(wr);
    wr.uint32();
    expect(wr.uint32()).toBe(StableHow.UNSTABLE);
    const writeVerf = Buffer.from(wr.fixedOpaque(8)).toString('hex');
    /** COMMIT's status, post-op size and verifier, from its results. */
    const commitOf = (r: XdrReader): { status: number; size?: number; verf?: string } => {
      const status = r.uint32();
      if (r.bool()) r.skip(24); // pre-op: size, mtime, ctime
      const size = r.bool() ? readFattr3(r).size : undefined;
      return status === Nfsstat3.OK ? { status, ...(size === undefined ? {} : { size }), verf: Buffer.from(r.fixedOpaque(8)).toString('hex') } : { status };
    };
    const commit = (): { xid: number; body: Buffer } => raw.record(PROG, NfsProc.COMMIT, (w) => w.opaque(fh).uint64(0).uint32(0));
    const one = commit();
    raw.sendCalls(one);
    const { stat, r } = await raw.accepted(one.xid);
    expect(stat).toBe(0);
    expect(commitOf(r)).toEqual({ status: Nfsstat3.OK, size: 6000, verf: writeVerf });
    // More COMMITs at once than the host runs calls at once (32): each is answered, the
    // ones past the bound by the usual path.
    const many = Array.from({ length: 100 }, commit);
    raw.sendCalls(...many);
    for (const m of many) {
      const got = await raw.accepted(m.xid);
      expect(got.stat).toBe(0);
      expect(commitOf(got.r)).toEqual({ status: Nfsstat3.OK, size: 6000, verf: writeVerf });
    }
    const rm = await raw.call(PROG, NfsProc.REMOVE, (w) => w.opaque(root).string('committed.bin'));
    expect(rm.uint32()).toBe(Nfsstat3.OK);
    const gone = commit();
    raw.sendCalls(gone);
    const g = await raw.accepted(gone.xid);
    expect(g.stat).toBe(0);
    expect(commitOf(g.r).status).toBe(Nfsstat3.STALE);
  });

  it('answers malformed calls with an error and keeps serving the connection', async () => {
    const a = (await lookup('a.txt')).fh!;
    // A call the synchronous path cannot decode goes the async way, and so do the calls behind
    // it (none overtakes one queued before it): the guest's async calls are needed here.
    state.strict = false;
    const truncated = raw.record(PROG, NfsProc.GETATTR, (w) => w.uint32(20).uint32(1));
    const notOurs = raw.record(PROG, NfsProc.GETATTR, (w) => w.opaque(Buffer.alloc(20, 7)));
    const badName = raw.record(PROG, NfsProc.REMOVE, (w) => w.opaque(root).string('a/b'));
    const good = raw.record(PROG, NfsProc.GETATTR, (w) => w.opaque(a));
    raw.sendCalls(truncated, notOurs, badName, good);
    expect((await raw.accepted(truncated.xid)).stat).toBe(4); // GARBAGE_ARGS
    const { stat: nStat, r: n } = await raw.accepted(notOurs.xid);
    expect(nStat).toBe(0);
    expect(n.uint32()).toBe(Nfsstat3.BADHANDLE);
    const { stat: bStat, r: b } = await raw.accepted(badName.xid);
    expect(bStat).toBe(0);
    expect(b.uint32()).toBe(Nfsstat3.INVAL);
    const { stat: gStat, r: g } = await raw.accepted(good.xid);
    expect(gStat).toBe(0);
    expect(g.uint32()).toBe(Nfsstat3.OK);
  });
});
