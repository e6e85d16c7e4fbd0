import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { readFattr3, readPostOpAttr } from '../../src-main/nfs/nfs3/attrs.ts';
import { NfsProc, Nfsstat3, StableHow } from '../../src-main/nfs/nfs3/constants.ts';
import { NfsServer } from '../../src-main/nfs/server/NfsServer.ts';
import type { XdrReader } from '../../src-main/nfs/xdr/XdrReader.ts';
import type { XdrWriter } from '../../src-main/nfs/xdr/XdrWriter.ts';
import type { Vfs } from '../../src-main/vfs/types.ts';
import { callBody, RawRpc } from '../helpers/rawRpc.ts';

// A file name on Linux is bytes: an old archive's Latin-1 "caf\xe9" is a name as good as
// "café", and "caf\xe8" is another one. Berth's NFS host takes each name and symlink target
// as the bytes on the wire and answers with the bytes on the disk (it used to refuse such a
// name with INVAL, and list one made outside as "caf\uFFFD", which then could not be opened).
// Raw calls, so the bytes sent and read are exactly the ones checked.

const PROG = 100003;
const E9 = Buffer.from('caf\xe9', 'latin1');
const E8 = Buffer.from('caf\xe8', 'latin1');
/** A real U+FFFD in a name: its UTF-8, and never what "caf\xe9" turns into. */
const FFFD = Buffer.from('caf\ufffd');
const hex = (bs: Buffer[]): string[] => bs.map((b) => b.toString('hex')).sort();
/** No sattr3 field set but the mode (RFC 1813 §2.6). */
const sattr = (w: XdrWriter, mode = 0o644): XdrWriter => w.bool(true).uint32(mode).bool(false).bool(false).bool(false).uint32(0).uint32(0);

describe('NFS host: names and symlink targets that are not UTF-8 travel as their bytes', () => {
  let base: string;
  let dir: string;
  let local: Vfs;
  let server: NfsServer;
  let raw: RawRpc;
  let root: Buffer;
  let xid = 1;

  /** One call's results, after its status (which is returned beside them). */
  const call = async (proc: number, args: (w: XdrWriter) => void, prog = PROG): Promise<{ status: number; r: XdrReader }> => {
    const x = xid++;
    raw.send(callBody(x, prog, 3, proc, args));
    const { stat, r } = await raw.accepted(x);
    expect(stat).toBe(0);
    return { status: r.uint32(), r };
  };
  /** The handle LOOKUP gives for `name` in `dirFh`, or the status it fails with. */
  const lookup = async (dirFh: Buffer, name: Buffer): Promise<Buffer | number> => {
    const { status, r } = await call(NfsProc.LOOKUP, (w) => w.opaque(dirFh).opaque(name));
    return status === Nfsstat3.OK ? Buffer.from(r.opaque(64)) : status;
  };
  /** The handle of a new object (post_op_fh3 of CREATE, MKDIR, SYMLINK), or the status the call fails with. */
  const made = async (proc: number, args: (w: XdrWriter) => void): Promise<Buffer | number> => {
    const { status, r } = await call(proc, args);
    if (status !== Nfsstat3.OK) return status;
    expect(r.bool()).toBe(true);
    return Buffer.from(r.opaque(64));
  };
  const create = (dirFh: Buffer, name: Buffer): Promise<Buffer | number> => made(NfsProc.CREATE, (w) => sattr(w.opaque(dirFh).opaque(name).uint32(0)));
  /** A fresh folder of the export, made on the disk, and its handle. */
  const folder = async (name: string): Promise<{ path: string; fh: Buffer; at: (n: Buffer) => Buffer }> => {
    const path = join(dir, name);
    mkdirSync(path);
    const fh = await lookup(root, Buffer.from(name));
    if (typeof fh === 'number') throw new Error(`LOOKUP ${name}: status ${fh}`);
    return { path, fh, at: (n) => Buffer.concat([Buffer.from(`${path}/`), n]) };
  };
  /** The names READDIRPLUS gives for `dirFh` as bytes, each with its handle. */
  const listing = async (dirFh: Buffer): Promise<Map<string, Buffer>> => {
    const { status, r } = await call(NfsProc.READDIRPLUS, (w) => w.opaque(dirFh).uint64(0).fixedOpaque(Buffer.alloc(8)).uint32(8192).uint32(65536));
    expect(status).toBe(Nfsstat3.OK);
    readPostOpAttr(r);
    r.fixedOpaque(8);
    const out = new Map<string, Buffer>();
    while (r.bool()) {
      r.uint64();
      const name = Buffer.from(r.opaque(255)).toString('hex');
      r.uint64();
      readPostOpAttr(r);
      if (r.bool()) out.set(name, Buffer.from(r.opaque(64)));
    }
    expect(r.bool()).toBe(true); // eof
    return out;
  };

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'berth-nfs-bytes-'));
    dir = join(base, 'export');
    mkdirSync(dir);
    local = await openLocalGuest({ kind: 'local', path: dir, readOnly: false });
    server = new NfsServer(local, { readOnly: false, auth: { rootSquash: false }, onError: () => {} }); // the test writes as root into root's folder
    const { port } = await server.listen(0);
    raw = new RawRpc(port);
    await raw.ready();
    const { status, r } = await call(1, (w) => w.string('/'), 100005);
    expect(status).toBe(0);
    root = Buffer.from(r.opaque(64));
  });

  afterAll(async () => {
    raw?.close();
    await server?.close();
    await local?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('CREATE makes a file named exactly by the bytes sent, "caf\\xe9" apart from "caf\\xe8"; LOOKUP and WRITE reach each', async () => {
    const d = await folder('create');
    const e9 = await create(d.fh, E9);
    const e8 = await create(d.fh, E8);
    expect(typeof e9).not.toBe('number');
    expect(typeof e8).not.toBe('number');
    expect(hex(readdirSync(d.path, { encoding: 'buffer' }))).toEqual(hex([E9, E8]));
    for (const [fh, text] of [[e9, 'e9'], [e8, 'e8']] as [Buffer, string][]) {
      const { status } = await call(NfsProc.WRITE, (w) => w.opaque(fh).uint64(0).uint32(text.length).uint32(StableHow.FILE_SYNC).opaque(Buffer.from(text)));
      expect(status).toBe(Nfsstat3.OK);
    }
    expect(readFileSync(d.at(E9), 'utf8')).toBe('e9');
    expect(readFileSync(d.at(E8), 'utf8')).toBe('e8');
    expect(await lookup(d.fh, E9)).toEqual(e9);
    expect(await lookup(d.fh, E8)).toEqual(e8);
    expect(await lookup(d.fh, FFFD)).toBe(Nfsstat3.NOENT);
    // MKDIR too, and a name inside it.
    const sub = await made(NfsProc.MKDIR, (w) => sattr(w.opaque(d.fh).opaque(Buffer.from([0xff, 0x64])), 0o755));
    if (typeof sub === 'number') throw new Error(`MKDIR: status ${sub}`);
    expect(typeof (await create(sub, E9))).not.toBe('number');
    expect(statSync(d.at(Buffer.from([0xff, 0x64, 0x2f, ...E9]))).isFile()).toBe(true);
  });

  it('READDIRPLUS lists names made on the disk with their exact bytes, each with the handle of its own file', async () => {
    const d = await folder('list');
    writeFileSync(d.at(E9), 'latin e9');
    writeFileSync(d.at(E8), 'latin e8!');
    writeFileSync(d.at(FFFD), 'replacement');
    writeFileSync(join(d.path, 'plain'), 'p');
    const listed = await listing(d.fh);
    expect([...listed.keys()].sort()).toEqual(hex([E9, E8, FFFD, Buffer.from('plain')]));
    for (const name of [E9, E8, FFFD]) {
      const { status, r } = await call(NfsProc.GETATTR, (w) => w.opaque(listed.get(name.toString('hex'))!));
      expect(status).toBe(Nfsstat3.OK);
      expect(readFattr3(r).size).toBe(statSync(d.at(name)).size);
      expect(await lookup(d.fh, name)).toEqual(listed.get(name.toString('hex')));
    }
  });

  it('READLINK gives a target that is not UTF-8 as its bytes, and SYMLINK stores the bytes sent', async () => {
    const d = await folder('links');
    const target = Buffer.from('../t\xe9l\xe9/caf\xe9', 'latin1');
    symlinkSync(target, d.at(E9));
    const readlink = async (fh: Buffer): Promise<Buffer> => {
      const { status, r } = await call(NfsProc.READLINK, (w) => w.opaque(fh));
      expect(status).toBe(Nfsstat3.OK);
      readPostOpAttr(r);
      return Buffer.from(r.opaque(1024));
    };
    const fh = await lookup(d.fh, E9);
    if (typeof fh === 'number') throw new Error(`LOOKUP: status ${fh}`);
    expect(await readlink(fh)).toEqual(target);
    const other = Buffer.from('caf\xe8/\xff', 'latin1');
    const made8 = await made(NfsProc.SYMLINK, (w) => sattr(w.opaque(d.fh).opaque(E8)).opaque(other));
    if (typeof made8 === 'number') throw new Error(`SYMLINK: status ${made8}`);
    expect(readlinkSync(d.at(E8), { encoding: 'buffer' })).toEqual(other);
    expect(await readlink(made8)).toEqual(other);
  });

  it('RENAME, REMOVE and RMDIR take names by their bytes', async () => {
    const d = await folder('change');
    writeFileSync(d.at(E9), 'moved');
    writeFileSync(d.at(E8), 'stays');
    mkdirSync(d.at(Buffer.from([0xfe])));
    const fromE9 = await lookup(d.fh, E9);
    let { status } = await call(NfsProc.RENAME, (w) => w.opaque(d.fh).opaque(E9).opaque(d.fh).opaque(Buffer.from([0xe0, 0x80])));
    expect(status).toBe(Nfsstat3.OK);
    expect(readFileSync(d.at(Buffer.from([0xe0, 0x80])), 'utf8')).toBe('moved');
    expect(await lookup(d.fh, Buffer.from([0xe0, 0x80]))).toEqual(fromE9); // the handle followed the rename
    ({ status } = await call(NfsProc.REMOVE, (w) => w.opaque(d.fh).opaque(Buffer.from([0xe0, 0x80]))));
    expect(status).toBe(Nfsstat3.OK);
    ({ status } = await call(NfsProc.RMDIR, (w) => w.opaque(d.fh).opaque(Buffer.from([0xfe]))));
    expect(status).toBe(Nfsstat3.OK);
    expect(hex(readdirSync(d.path, { encoding: 'buffer' }))).toEqual(hex([E8]));
  });

  it('a real U+FFFD is a name like any other, apart from the bytes that are not UTF-8', async () => {
    const d = await folder('fffd');
    writeFileSync(d.at(E9), 'latin');
    const fh = await create(d.fh, FFFD);
    expect(typeof fh).not.toBe('number');
    expect(hex(readdirSync(d.path, { encoding: 'buffer' }))).toEqual(hex([E9, FFFD]));
    expect(await lookup(d.fh, FFFD)).toEqual(fh);
    expect(await lookup(d.fh, E9)).not.toEqual(fh);
  });
});
