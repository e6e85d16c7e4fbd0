import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { NfsClient } from '../../src-main/nfs/client/NfsClient.ts';
import { readFattr3 } from '../../src-main/nfs/nfs3/attrs.ts';
import { encodeAuthSys } from '../../src-main/nfs/rpc/messages.ts';
import { NfsProc, Nfsstat3 } from '../../src-main/nfs/nfs3/constants.ts';
import { NfsServer } from '../../src-main/nfs/server/NfsServer.ts';
import { XdrReader } from '../../src-main/nfs/xdr/XdrReader.ts';
import { XdrWriter } from '../../src-main/nfs/xdr/XdrWriter.ts';
import type { Vfs } from '../../src-main/vfs/types.ts';
import { wrapGuest } from '../../src-main/vfs/wrapGuest.ts';
import { hasCommand, missingPeer } from '../helpers/peers.ts';
import { RawRpc } from '../helpers/rawRpc.ts';

// The NFS host answers a READ of an open local file from the file as it is now: fstat for
// the size, eof and post-op attributes, the bytes sent from the descriptor with sendfile
// (or read into a buffer when the socket is busy; RpcServer.sendWithFile). Read here by
// libnfs's tools and by raw RPC on one connection: new bytes and sizes right after a change
// in the backing folder, EOF, short and odd-length reads (XDR padding), many READs at once
// mixed with GETATTRs, and a client that stops reading while others go on.

const PROG = 100003;
const MIB = 1 << 20;

function run(cmd: string, args: string[]): Promise<{ code: number; out: Buffer; err: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 64 << 20 }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err: err.toString() }),
    );
  });
}

/** One READ3 reply as sent. */
interface Read3 {
  status: number;
  /** post-op size, when the reply carried attributes. */
  size?: number;
  eof?: boolean;
  data?: Buffer;
}

/** Raw READs and GETATTRs on one connection (RawRpc: AUTH_SYS as this process's user), replies decoded by xid. */
class Raw {
  readonly rpc: RawRpc;
  private xid = 1;

  constructor(port: number) {
    this.rpc = new RawRpc(port);
  }

  get socket(): Socket {
    return this.rpc.socket;
  }

  ready(): Promise<void> {
    return this.rpc.ready();
  }

  /**
   * One AUTH_SYS body for the connection, as clients send it: the server answers from its
   * synchronous paths only calls whose credentials match the ones it decoded last (a body
   * encoded per call changes its stamp each second).
   */
  private readonly cred = ((): Buffer => {
    const w = new XdrWriter();
    encodeAuthSys(w, { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
    return w.toBuffer();
  })();

  record(prog: number, proc: number, args: (w: XdrWriter) => void): { xid: number; body: Buffer } {
    const xid = this.xid++;
    const w = new XdrWriter().uint32(xid).uint32(0).uint32(2).uint32(prog).uint32(3).uint32(proc);
    w.fixedOpaque(this.cred).uint32(0).uint32(0);
    args(w);
    return { xid, body: w.toBuffer() };
  }

  /** A READ call's record. */
  read(fh: Buffer, offset: number, count: number): { xid: number; body: Buffer } {
    return this.record(PROG, NfsProc.READ, (w) => w.opaque(fh).uint64(offset).uint32(count));
  }

  send(...calls: { body: Buffer }[]): void {
    this.rpc.send(...calls.map((c) => c.body));
  }

  /** The results of `xid`'s reply (after an accepted SUCCESS); forgotten once read (1 MiB each). */
  async reply(xid: number): Promise<XdrReader> {
    const { stat, r } = await this.rpc.accepted(xid);
    this.rpc.replies.delete(xid);
    expect(stat).toBe(0);
    return r;
  }

  /** A READ3 reply decoded; the record must end right after the data's padding. */
  async readReply(xid: number): Promise<Read3> {
    const r = await this.reply(xid);
    const status = r.uint32();
    const size = r.bool() ? readFattr3(r).size : undefined;
    if (status !== Nfsstat3.OK) return { status, ...(size === undefined ? {} : { size }) };
    const count = r.uint32();
    const eof = r.bool();
    const data = Buffer.from(r.opaque(64 * MIB));
    expect(data.length).toBe(count);
    expect(r.remaining).toBe(0);
    return { status, ...(size === undefined ? {} : { size }), eof, data };
  }

  async readNow(fh: Buffer, offset: number, count: number): Promise<Read3> {
    const c = this.read(fh, offset, count);
    this.send(c);
    return this.readReply(c.xid);
  }

  close(): void {
    this.rpc.close();
  }
}

const skip = missingPeer('libnfs-utils', () => hasCommand('nfs-cat') && hasCommand('nfs-cp'), 'apt-get install libnfs-utils');

describe.skipIf(skip)('NFS host: READ of a local file sent from the file as it is now', () => {
  let dir: string;
  let out: string;
  let local: Vfs;
  let server: NfsServer;
  let port: number;
  let raw: Raw;
  let client: NfsClient;
  let root: Buffer;
  const url = (name: string): string => `nfs://127.0.0.1//${name}?version=3&nfsport=${port}&mountport=${port}`;
  let copies = 0;
  const nfsCp = async (name: string): Promise<Buffer> => {
    const dest = join(out, `copy-${copies++}`);
    const r = await run('nfs-cp', [url(name), dest]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    return readFileSync(dest);
  };
  const nfsCat = async (name: string): Promise<Buffer> => {
    const r = await run('nfs-cat', [url(name)]);
    expect(r.code).toBe(0);
    return r.out;
  };
  const fhOf = async (name: string): Promise<Buffer> => (await client.lookup(root, name)).fh;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-nfs-sendfile-'));
    chmodSync(dir, 0o755);
    out = mkdtempSync(join(tmpdir(), 'berth-nfs-sendfile-out-'));
    // As `berth mount nfs local --read-only` serves it: deadlines and caches included.
    local = wrapGuest(await openLocalGuest({ kind: 'local', path: dir, readOnly: true }));
    server = new NfsServer(local, { readOnly: true, auth: { rootSquash: false }, onError: () => {} });
    port = (await server.listen(0)).port;
    raw = new Raw(port);
    await raw.ready();
    client = new NfsClient({ host: '127.0.0.1', port, cred: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }, maxInFlight: 128 });
    root = await client.mount('/');
  });

  afterAll(async () => {
    raw?.close();
    await client?.close();
    await server?.close();
    await local?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('nfs-cp right after the file changed in place (handle still open) gets the new bytes and size', async () => {
    let content = randomBytes(9 * MIB + 4321);
    writeFileSync(join(dir, 'big.bin'), content);
    expect((await nfsCp('big.bin')).equals(content)).toBe(true);
    // The same file rewritten in place (same inode: the host's open descriptor sees it), longer, shorter, odd.
    for (const size of [9 * MIB + 9999, 3 * MIB + 1, 9 * MIB, 7]) {
      content = randomBytes(size);
      writeFileSync(join(dir, 'big.bin'), content);
      const got = await nfsCp('big.bin');
      expect(got.length).toBe(size);
      expect(got.equals(content)).toBe(true);
    }
  });

  it('a file replaced by rename (an editor\'s save) is read anew, not from the descriptor still open on the old one', async () => {
    const first = randomBytes(2 * MIB + 5);
    writeFileSync(join(dir, 'saved.txt'), first);
    expect((await nfsCat('saved.txt')).equals(first)).toBe(true);
    const second = randomBytes(MIB + 3);
    writeFileSync(join(dir, 'saved.txt.tmp'), second);
    renameSync(join(dir, 'saved.txt.tmp'), join(dir, 'saved.txt'));
    expect((await nfsCat('saved.txt')).equals(second)).toBe(true);
    expect((await nfsCp('saved.txt')).equals(second)).toBe(true);
  });

  it('nfs-cat of files of every length modulo 4 (XDR padding), twice (the second from the open handle)', async () => {
    for (const n of [0, 1, 2, 3, 4, 5, 4097, 65_538, MIB + 3]) {
      const content = randomBytes(n);
      writeFileSync(join(dir, `odd-${n}`), content);
      for (let i = 0; i < 2; i++) expect((await nfsCat(`odd-${n}`)).equals(content)).toBe(true);
    }
  });

  it('READs at and past EOF, short and odd reads: bytes, count, eof and fresh post-op attributes', async () => {
    const content = randomBytes(100_003);
    writeFileSync(join(dir, 'small.bin'), content);
    const fh = await fhOf('small.bin');
    await raw.readNow(fh, 0, 10); // opens the file: the READs below are answered from the open descriptor
    const cases: [number, number][] = [
      [0, 100_003],
      [0, 1 << 20],
      [1, 1],
      [3, 5],
      [100_000, 10],
      [100_002, 1],
      [100_003, 4096],
      [200_000, 7],
      [99_999, 3],
      [65_536, 65_537],
    ];
    for (const [offset, count] of cases) {
      const r = await raw.readNow(fh, offset, count);
      expect(r.status).toBe(Nfsstat3.OK);
      const want = content.subarray(Math.min(offset, content.length), Math.min(offset + count, content.length));
      expect(r.data!.equals(want)).toBe(true);
      expect(r.eof).toBe(offset + count >= content.length);
      expect(r.size).toBe(content.length);
    }
    // Changed outside: the very next READ has the new bytes and says the new size.
    const longer = randomBytes(150_001);
    writeFileSync(join(dir, 'small.bin'), longer);
    let r = await raw.readNow(fh, 100_000, 50_001);
    expect(r.size).toBe(150_001);
    expect(r.eof).toBe(true);
    expect(r.data!.equals(longer.subarray(100_000))).toBe(true);
    truncateSync(join(dir, 'small.bin'), 50_000);
    r = await raw.readNow(fh, 40_000, 20_000);
    expect(r.size).toBe(50_000);
    expect(r.eof).toBe(true);
    expect(r.data!.equals(longer.subarray(40_000, 50_000))).toBe(true);
    r = await raw.readNow(fh, 100_000, 10);
    expect(r.data!.length).toBe(0);
    expect(r.eof).toBe(true);
  });

  it('many READs at once on one connection, mixed with GETATTRs, each reply whole and its own', async () => {
    const content = randomBytes(24 * MIB + 13);
    writeFileSync(join(dir, 'many.bin'), content);
    const fh = await fhOf('many.bin');
    await raw.readNow(fh, 0, 1);
    // Sent in one write: the server reads them together; 1 MiB replies fill the socket, so
    // some go out with sendfile and the rest through the socket's queue, in order.
    const calls: { xid: number; body: Buffer; offset?: number; count?: number }[] = [];
    for (let i = 0; i < 96; i++) {
      if (i % 4 === 3) {
        calls.push(raw.record(PROG, NfsProc.GETATTR, (w) => w.opaque(fh)));
        continue;
      }
      const offset = i % 3 === 0 ? (i % 24) * MIB : (i * 7_919_003) % content.length;
      const count = i % 5 === 0 ? MIB : 1 + ((i * 104_729) % MIB);
      calls.push({ ...raw.read(fh, offset, count), offset, count });
    }
    raw.send(...calls);
    for (const c of calls) {
      if (c.offset === undefined) {
        const r = await raw.reply(c.xid);
        expect(r.uint32()).toBe(Nfsstat3.OK);
        expect(readFattr3(r).size).toBe(content.length);
        continue;
      }
      const r = await raw.readReply(c.xid);
      expect(r.status).toBe(Nfsstat3.OK);
      expect(r.data!.equals(content.subarray(c.offset, c.offset + c.count!))).toBe(true);
    }
    // The same through our own client's pipelined connection.
    const got = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        if (i % 8 === 7) return (await client.getattr(fh)).size === content.length;
        const offset = (i * 3_000_017) % content.length;
        const r = await client.read(fh, offset, 700_001);
        try {
          return r.data.equals(content.subarray(offset, offset + 700_001));
        } finally {
          r.release();
        }
      }),
    );
    expect(got.every(Boolean)).toBe(true);
  });

  it('a client that stops reading does not stall other connections, and leaves no descriptor behind', async () => {
    const content = randomBytes(8 * MIB);
    writeFileSync(join(dir, 'stall.bin'), content);
    const fh = await fhOf('stall.bin');
    await raw.readNow(fh, 0, 1);
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    const conns = server.connectionCount;

    const stalled = new Raw(port);
    await stalled.ready();
    stalled.socket.pause(); // never reads: its replies pile up in the kernel, then in the server
    const recs = Array.from({ length: 300 }, (_, i) => stalled.read(fh, (i % 8) * MIB, MIB));
    stalled.send(...recs);
    await new Promise((r) => setTimeout(r, 300));

    // Others go on meanwhile: a whole copy through libnfs, and READs on the raw connection.
    expect((await nfsCp('stall.bin')).equals(content)).toBe(true);
    const r = await raw.readNow(fh, 5 * MIB + 1, 4097);
    expect(r.data!.equals(content.subarray(5 * MIB + 1, 5 * MIB + 4098))).toBe(true);
    expect(server.connectionCount).toBe(conns + 1);

    stalled.close();
    for (let i = 0; i < 100 && server.connectionCount > conns; i++) await new Promise((res) => setTimeout(res, 50));
    expect(server.connectionCount).toBe(conns);
    for (let i = 0; i < 100 && fds() > before; i++) await new Promise((res) => setTimeout(res, 50));
    expect(fds()).toBeLessThanOrEqual(before);
    // And the server still serves that file after the stalled reader is gone.
    expect((await raw.readNow(fh, 7 * MIB, MIB)).data!.equals(content.subarray(7 * MIB))).toBe(true);
  });
});
