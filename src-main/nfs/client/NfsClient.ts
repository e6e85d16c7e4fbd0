import { readFattr3, readPostOpAttr, readWcc, writeSattr3, type Fattr3, type Sattr3 } from '../nfs3/attrs.ts';
import { CreateMode, FHSIZE3, MOUNT_PROGRAM, MOUNT_V3, MountProc, NFS_PROGRAM, NFS_V3, NfsProc, Nfsstat3, PATH_MAX, StableHow, VERF_SIZE } from '../nfs3/constants.ts';
import type { XdrReader } from '../xdr/XdrReader.ts';
import type { XdrWriter } from '../xdr/XdrWriter.ts';
import { NfsCallError } from './NfsCallError.ts';
import { RpcClient, RpcError, type RpcCredentials } from './RpcClient.ts';

// Typed NFSv3 calls (RFC 1813 §3.3) and MOUNT v3 (Appendix I) over pipelined RPC clients.

/** PMAP program (RFC 1833 §3 / RFC 1057 Appendix A), asked only when MOUNT is not on the NFS port. */
const PMAP_PROGRAM = 100000;
const PMAP_V2 = 2;
const PMAPPROC_GETPORT = 3;
const IPPROTO_TCP = 6;

/** A file handle and what the server said about the node. */
export interface NodeRef {
  fh: Buffer;
  attr?: Fattr3;
}

/**
 * One READDIRPLUS entry (the fileid's low 53 bits: what an Attr.ino holds). Its name and
 * attributes are those of a DirEntry, so a guest can list it without a copy per entry.
 */
export interface PlusEntry {
  name: string;
  fileid: number;
  attr?: Fattr3;
  fh?: Buffer;
}

/** FSINFO results we use. */
export interface FsInfo {
  rtmax: number;
  rtpref: number;
  wtmax: number;
  wtpref: number;
  dtpref: number;
  /** FSF3_* bits (FsfProps): hard links, symlinks, settable times. */
  properties: number;
}

/** FSSTAT results. */
export interface FsStat {
  tbytes: number;
  fbytes: number;
  abytes: number;
  tfiles: number;
  ffiles: number;
  afiles: number;
}

/** Options of an NFS client. */
export interface NfsClientOptions {
  host: string;
  /** The NFS port; MOUNT is tried there first, then found through the portmapper. */
  port: number;
  /** MOUNT's port when it is known (skips the portmapper, e.g. for a ganesha started with MNT_Port). */
  mountPort?: number;
  cred: RpcCredentials;
  maxInFlight?: number;
  timeoutMs?: number;
}

function check(r: XdrReader, what: string): XdrReader {
  const status = r.uint32() as Nfsstat3;
  if (status !== Nfsstat3.OK) throw new NfsCallError(status, what);
  return r;
}

/** An NFSv3 client: one pipelined connection for NFS, one for MOUNT when it lives elsewhere. */
export class NfsClient {
  /** The NFS connection (tests read its reconnect count). */
  readonly rpc: RpcClient;
  private mountRpc: RpcClient | undefined;

  constructor(private readonly opts: NfsClientOptions) {
    this.rpc = new RpcClient({ host: opts.host, port: opts.port, cred: opts.cred, maxInFlight: opts.maxInFlight ?? 64, timeoutMs: opts.timeoutMs ?? 60_000 });
    if (opts.mountPort !== undefined && opts.mountPort !== opts.port) this.mountRpc = this.mountClient(opts.mountPort);
  }

  private mountClient(port: number): RpcClient {
    return new RpcClient({ host: this.opts.host, port, cred: this.opts.cred, maxInFlight: 4, timeoutMs: this.opts.timeoutMs ?? 60_000 });
  }

  private nfs(proc: number, args: (w: XdrWriter) => void, signal?: AbortSignal): Promise<XdrReader> {
    return this.rpc.call(NFS_PROGRAM, NFS_V3, proc, args, signal);
  }

  /** MNT (Appendix I §5.2.1): the root handle of an export. */
  async mount(dirpath: string, signal?: AbortSignal): Promise<Buffer> {
    const call = (c: RpcClient): Promise<XdrReader> => c.call(MOUNT_PROGRAM, MOUNT_V3, MountProc.MNT, (w) => w.string(dirpath), signal);
    let r: XdrReader;
    try {
      r = await call(this.mountRpc ?? this.rpc);
    } catch (err) {
      if (!(err instanceof RpcError) || err.acceptStat === undefined || this.mountRpc) throw err;
      // MOUNT is not served on the NFS port (e.g. ganesha): ask the portmapper where it is.
      const port = await this.portmap(MOUNT_PROGRAM, MOUNT_V3, signal);
      this.mountRpc = this.mountClient(port);
      r = await call(this.mountRpc);
    }
    const status = r.uint32();
    if (status !== 0) throw new NfsCallError(status === 1 ? Nfsstat3.PERM : (status as Nfsstat3), `mount ${dirpath}`);
    return Buffer.from(r.opaque(FHSIZE3));
  }

  private async portmap(prog: number, vers: number, signal?: AbortSignal): Promise<number> {
    const pm = new RpcClient({ host: this.opts.host, port: 111, maxInFlight: 1, timeoutMs: 10_000 });
    try {
      const r = await pm.call(PMAP_PROGRAM, PMAP_V2, PMAPPROC_GETPORT, (w) => w.uint32(prog).uint32(vers).uint32(IPPROTO_TCP).uint32(0), signal);
      const port = r.uint32();
      if (port === 0) throw new RpcError(`program ${prog} version ${vers} is not registered with the portmapper at ${this.opts.host}`);
      return port;
    } finally {
      await pm.close();
    }
  }

  /** NULL (§3.3.0): a ping. */
  async ping(signal?: AbortSignal): Promise<void> {
    await this.nfs(NfsProc.NULL, () => {}, signal);
  }

  /** GETATTR (§3.3.1). */
  async getattr(fh: Buffer, signal?: AbortSignal): Promise<Fattr3> {
    return readFattr3(check(await this.nfs(NfsProc.GETATTR, (w) => w.opaque(fh), signal), 'getattr'));
  }

  /** SETATTR (§3.3.2) without a guard: the attributes after it, when the server sent them (its wcc_data). */
  async setattr(fh: Buffer, attrs: Sattr3, signal?: AbortSignal): Promise<Fattr3 | undefined> {
    return readWcc(check(await this.nfs(NfsProc.SETATTR, (w) => {
      w.opaque(fh);
      writeSattr3(w, attrs);
      w.bool(false);
    }, signal), 'setattr'));
  }

  /** LOOKUP (§3.3.3). */
  async lookup(dir: Buffer, name: string, signal?: AbortSignal): Promise<NodeRef> {
    const r = check(await this.nfs(NfsProc.LOOKUP, (w) => w.opaque(dir).string(name), signal), `lookup ${name}`);
    const fh = Buffer.from(r.opaque(FHSIZE3));
    return { fh, attr: readPostOpAttr(r) };
  }

  /** READLINK (§3.3.5). */
  async readlink(fh: Buffer, signal?: AbortSignal): Promise<string> {
    const r = check(await this.nfs(NfsProc.READLINK, (w) => w.opaque(fh), signal), 'readlink');
    readPostOpAttr(r);
    return r.string(PATH_MAX);
  }

  /**
   * READ (§3.3.6): the data is a view of the reply record (no copy). A caller that copies
   * it out may call release() afterwards so the memory serves the next reply.
   */
  async read(fh: Buffer, offset: number, count: number, signal?: AbortSignal): Promise<{ data: Buffer; eof: boolean; release: () => void }> {
    const r = check(await this.nfs(NfsProc.READ, (w) => w.opaque(fh).uint64(offset).uint32(count), signal), 'read');
    readPostOpAttr(r);
    r.uint32();
    const eof = r.bool();
    const data = r.opaque(count);
    return { data, eof, release: () => this.rpc.release(data) };
  }

  /** WRITE (§3.3.7); returns the bytes written and the server's write verifier. */
  async write(fh: Buffer, offset: number, data: Uint8Array, stable: number = StableHow.UNSTABLE, signal?: AbortSignal): Promise<{ count: number; verf: string }> {
    const r = check(await this.nfs(NfsProc.WRITE, (w) => w.opaque(fh).uint64(offset).uint32(data.length).uint32(stable).opaque(data), signal), 'write');
    readWcc(r);
    const count = r.uint32();
    r.uint32();
    return { count, verf: r.fixedOpaque(VERF_SIZE).toString('hex') };
  }

  private newObject(r: XdrReader): NodeRef | undefined {
    const hasFh = r.bool();
    const fh = hasFh ? Buffer.from(r.opaque(FHSIZE3)) : undefined;
    const attr = readPostOpAttr(r);
    readWcc(r);
    return fh ? { fh, attr } : undefined;
  }

  /** CREATE (§3.3.8), GUARDED: fails with Exist when the name is taken. */
  async create(dir: Buffer, name: string, mode: number, signal?: AbortSignal): Promise<NodeRef | undefined> {
    const r = check(await this.nfs(NfsProc.CREATE, (w) => {
      w.opaque(dir).string(name).uint32(CreateMode.GUARDED);
      writeSattr3(w, { mode });
    }, signal), `create ${name}`);
    return this.newObject(r);
  }

  /** MKDIR (§3.3.9). */
  async mkdir(dir: Buffer, name: string, mode: number, signal?: AbortSignal): Promise<NodeRef | undefined> {
    const r = check(await this.nfs(NfsProc.MKDIR, (w) => {
      w.opaque(dir).string(name);
      writeSattr3(w, { mode });
    }, signal), `mkdir ${name}`);
    return this.newObject(r);
  }

  /** SYMLINK (§3.3.10). */
  async symlink(dir: Buffer, name: string, target: string, signal?: AbortSignal): Promise<NodeRef | undefined> {
    const r = check(await this.nfs(NfsProc.SYMLINK, (w) => {
      w.opaque(dir).string(name);
      writeSattr3(w, {});
      w.string(target);
    }, signal), `symlink ${name}`);
    return this.newObject(r);
  }

  /** LINK (§3.3.15): `name` in `dir` becomes another name of `file`. */
  async link(file: Buffer, dir: Buffer, name: string, signal?: AbortSignal): Promise<void> {
    const r = check(await this.nfs(NfsProc.LINK, (w) => w.opaque(file).opaque(dir).string(name), signal), `link ${name}`);
    readPostOpAttr(r);
    readWcc(r);
  }

  /** MKNOD (§3.3.11) of a fifo, socket or device (major/minor for char and block). */
  async mknod(dir: Buffer, name: string, ftype: number, mode: number, dev: { major: number; minor: number } | undefined, signal?: AbortSignal): Promise<NodeRef | undefined> {
    const r = check(await this.nfs(NfsProc.MKNOD, (w) => {
      w.opaque(dir).string(name).uint32(ftype);
      writeSattr3(w, { mode });
      if (dev) w.uint32(dev.major).uint32(dev.minor);
    }, signal), `mknod ${name}`);
    return this.newObject(r);
  }

  /** REMOVE (§3.3.12). */
  async remove(dir: Buffer, name: string, signal?: AbortSignal): Promise<void> {
    check(await this.nfs(NfsProc.REMOVE, (w) => w.opaque(dir).string(name), signal), `remove ${name}`);
  }

  /** RMDIR (§3.3.13). */
  async rmdir(dir: Buffer, name: string, signal?: AbortSignal): Promise<void> {
    check(await this.nfs(NfsProc.RMDIR, (w) => w.opaque(dir).string(name), signal), `rmdir ${name}`);
  }

  /** RENAME (§3.3.14). */
  async rename(fromDir: Buffer, fromName: string, toDir: Buffer, toName: string, signal?: AbortSignal): Promise<void> {
    check(await this.nfs(NfsProc.RENAME, (w) => w.opaque(fromDir).string(fromName).opaque(toDir).string(toName), signal), `rename ${fromName}`);
  }

  /** READDIR (§3.3.16), one page: names, fileids and cookies, plus the verifier to continue with. */
  async readdirPage(dir: Buffer, cookie: bigint, verf: Buffer, count: number, signal?: AbortSignal): Promise<{ entries: { name: string; fileid: bigint; cookie: bigint }[]; verf: Buffer; eof: boolean }> {
    const r = check(await this.nfs(NfsProc.READDIR, (w) => w.opaque(dir).uint64(cookie).fixedOpaque(verf).uint32(count), signal), 'readdir');
    readPostOpAttr(r);
    const next = Buffer.from(r.fixedOpaque(VERF_SIZE));
    const entries = [];
    while (r.bool()) entries.push({ fileid: r.uint64(), name: r.string(PATH_MAX), cookie: r.uint64() });
    return { entries, verf: next, eof: r.bool() };
  }

  /** READDIRPLUS (§3.3.17), every page: yields entries as pages arrive. */
  /** READDIRPLUS (§3.3.17) entry by entry; see readdirplusPages. */
  async *readdirplus(dir: Buffer, signal?: AbortSignal, maxcount = 128 * 1024, dircount = maxcount / 4): AsyncGenerator<PlusEntry> {
    for await (const page of this.readdirplusPages(dir, signal, maxcount, dircount)) yield* page;
  }

  /**
   * READDIRPLUS (§3.3.17) page by page. The next page travels while the caller consumes
   * this one (a listing is otherwise one round trip per page, back to back). The handles
   * of a page are copied into one buffer: the reply's buffer goes back to the pool.
   */
  async *readdirplusPages(dir: Buffer, signal?: AbortSignal, maxcount = 128 * 1024, dircount = maxcount / 4): AsyncGenerator<PlusEntry[]> {
    const call = (cookie: bigint, verf: Buffer): Promise<XdrReader> =>
      this.nfs(NfsProc.READDIRPLUS, (w) => w.opaque(dir).uint64(cookie).fixedOpaque(verf).uint32(dircount).uint32(maxcount), signal);
    let next = call(0n, Buffer.alloc(VERF_SIZE));
    for (;;) {
      const r = check(await next, 'readdirplus');
      readPostOpAttr(r);
      const verf = Buffer.from(r.fixedOpaque(VERF_SIZE));
      const page: PlusEntry[] = [];
      const handles: Buffer[] = [];
      // Only the last entry's cookie is sent back: kept as two words, no BigInt per entry.
      let hi = 0;
      let lo = 0;
      while (r.bool()) {
        const fileid = r.uint64Low53();
        const name = r.string(PATH_MAX);
        hi = r.uint32();
        lo = r.uint32();
        const attr = readPostOpAttr(r);
        const fh = r.bool() ? r.opaque(FHSIZE3) : undefined;
        const e: PlusEntry = { name, fileid };
        if (attr) e.attr = attr;
        if (fh) {
          e.fh = fh;
          handles.push(fh);
        }
        page.push(e);
      }
      const eof = r.bool();
      if (!eof && page.length === 0) throw new NfsCallError(Nfsstat3.IO, 'readdirplus: server returned an empty page before the end');
      copyHandles(page, handles);
      if (!eof) {
        next = call((BigInt(hi) << 32n) | BigInt(lo), verf);
        next.catch(() => {}); // seen by the next iteration, or nobody when the caller stops early
      }
      yield page;
      if (eof) return;
    }
  }


  /** FSSTAT (§3.3.18). */
  async fsstat(fh: Buffer, signal?: AbortSignal): Promise<FsStat> {
    const r = check(await this.nfs(NfsProc.FSSTAT, (w) => w.opaque(fh), signal), 'fsstat');
    readPostOpAttr(r);
    const n = (): number => Number(r.uint64());
    return { tbytes: n(), fbytes: n(), abytes: n(), tfiles: n(), ffiles: n(), afiles: n() };
  }

  /** FSINFO (§3.3.19). */
  async fsinfo(fh: Buffer, signal?: AbortSignal): Promise<FsInfo> {
    const r = check(await this.nfs(NfsProc.FSINFO, (w) => w.opaque(fh), signal), 'fsinfo');
    readPostOpAttr(r);
    const rtmax = r.uint32();
    const rtpref = r.uint32();
    r.uint32();
    const wtmax = r.uint32();
    const wtpref = r.uint32();
    r.uint32();
    const dtpref = r.uint32();
    r.uint64(); // maxfilesize
    r.uint32(); // time_delta
    r.uint32();
    const properties = r.uint32();
    return { rtmax, rtpref, wtmax, wtpref, dtpref, properties };
  }

  /** COMMIT (§3.3.21) of the whole file; returns the write verifier. */
  async commit(fh: Buffer, signal?: AbortSignal): Promise<string> {
    const r = check(await this.nfs(NfsProc.COMMIT, (w) => w.opaque(fh).uint64(0).uint32(0), signal), 'commit');
    readWcc(r);
    return r.fixedOpaque(VERF_SIZE).toString('hex');
  }

  /** Closes both connections. */
  async close(): Promise<void> {
    await Promise.all([this.rpc.close(), this.mountRpc?.close()]);
  }
}

/** Gives every entry of a page its own copy of its handle, all in one buffer (one allocation per page). */
function copyHandles(page: PlusEntry[], handles: Buffer[]): void {
  let total = 0;
  for (const h of handles) total += h.length;
  const slab = Buffer.allocUnsafe(total);
  let at = 0;
  for (const e of page) {
    if (!e.fh) continue;
    const len = e.fh.copy(slab, at);
    e.fh = slab.subarray(at, at + len);
    at += len;
  }
}
