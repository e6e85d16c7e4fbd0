import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { hasRawBytes, nameFromBytes, nameToBytes } from '../../src-main/sys/byteNames.ts';
import { readdirBatches } from '../../src-main/vfs/listing.ts';
import type { Caller, FileHandle, Vfs } from '../../src-main/vfs/types.ts';
import { blocksOf } from '../../src-main/vfs/modeType.ts';
import type { TimeArg, TreeWriter, WStat } from './writable.ts';

// The two ways the writable suite changes a tree: calls on a vfs (with a caller), or file
// operations in a child process (fsWorker.mjs) on a folder the OS serves, run as root or as
// nobody with umask 0, like a user's tools.

const call = (caller?: Caller) => ({ signal: AbortSignal.timeout(30_000), ...(caller ? { caller } : {}) });
const ms = (t: [number, number]): number => t[0] * 1000 + t[1] / 1e6;

/** Changes a tree straight through a guest, as `caller`. */
export function vfsWriter(vfs: Vfs, caller?: Caller): TreeWriter {
  const o = () => call(caller);
  const handles = new Map<number, FileHandle>();
  let next = 1;
  const need = <T>(f: T | undefined, what: string): T => {
    if (!f) throw Object.assign(new Error(`${vfs.name} has no ${what}`), { kind: 'ReadOnly' });
    return f;
  };
  const readAll = async (p: string): Promise<Buffer> => {
    const h = await vfs.open(p, {}, o());
    try {
      const parts: Uint8Array[] = [];
      for (let pos = 0; ; ) {
        const b = await h.read(pos, 1 << 20, o());
        if (b.length === 0) break;
        parts.push(b);
        pos += b.length;
      }
      return Buffer.concat(parts);
    } finally {
      await h.close();
    }
  };
  const w: TreeWriter = {
    mkdir: async (p, mode) => void (await need(vfs.mkdir, 'mkdir').call(vfs, p, mode, o())),
    async create(p, mode, text) {
      const h = await need(vfs.create, 'create').call(vfs, p, mode, o());
      try {
        if (text) await h.write!(0, Buffer.from(text), o());
      } finally {
        await h.close();
      }
    },
    async append(p, text) {
      const size = (await vfs.getattr(p, o())).size;
      const h = await vfs.open(p, { write: true }, o());
      try {
        await h.write!(size, Buffer.from(text), o());
      } finally {
        await h.close();
      }
    },
    read: readAll,
    async stat(p): Promise<WStat> {
      const a = await vfs.getattr(p, o());
      const ns = (t: number): bigint => BigInt(Math.round(t * 1e6));
      return { type: a.type, mode: a.mode, uid: a.uid, gid: a.gid, size: a.size, blocks: blocksOf(a), nlink: a.nlink, atimeNs: ns(a.atime), mtimeNs: ns(a.mtime) };
    },
    chmod: async (p, mode) => void (await need(vfs.setattr, 'setattr').call(vfs, p, { mode }, o())),
    chown: async (p, uid, gid) => void (await need(vfs.setattr, 'setattr').call(vfs, p, { uid, gid }, o())),
    truncate: async (p, size) => void (await need(vfs.setattr, 'setattr').call(vfs, p, { size }, o())),
    async utimes(p, a: TimeArg, m: TimeArg) {
      const now = Date.now();
      const pick = (t: TimeArg): number | undefined => (t === 'omit' ? undefined : t === 'now' ? now : ms(t));
      const at = pick(a);
      const mt = pick(m);
      // "now" needs only write access unless an explicit time rides along (SetAttr.timesNow).
      const timesNow = (a === 'now' || m === 'now') && !Array.isArray(a) && !Array.isArray(m);
      await need(vfs.setattr, 'setattr').call(vfs, p, { ...(at !== undefined ? { atime: at } : {}), ...(mt !== undefined ? { mtime: mt } : {}), ...(timesNow ? { timesNow } : {}) }, o());
    },
    rename: (a, b) => need(vfs.rename, 'rename').call(vfs, a, b, o()),
    link: (a, b) => need(vfs.link, 'link').call(vfs, a, b, o()),
    unlink: (p) => need(vfs.unlink, 'unlink').call(vfs, p, o()),
    rmdir: (p) => need(vfs.rmdir, 'rmdir').call(vfs, p, o()),
    mkfifo: (p, mode) => need(vfs.mknod, 'mknod').call(vfs, p, 'fifo', mode, 0, o()),
    symlink: (target, p) => need(vfs.symlink, 'symlink').call(vfs, target, p, o()),
    readlink: (p) => vfs.readlink(p, o()),
    async list(p) {
      const names: string[] = [];
      for await (const batch of readdirBatches(vfs, p, o())) for (const e of batch) names.push(e.name);
      return names.sort();
    },
    bindSocket: async (p) => void (await need(vfs.mknod, 'mknod').call(vfs, p, 'socket', 0o777, 0, o())),
    setxattr: (p, name, value) => need(vfs.setxattr, 'setxattr').call(vfs, p, name, Buffer.from(value), undefined, o()),
    getxattr: async (p, name) => {
      const v = await vfs.getxattr(p, name, o());
      return v === undefined ? undefined : Buffer.from(v).toString();
    },
    listxattr: async (p) => (await vfs.listxattr(p, o())).sort(),
    removexattr: (p, name) => need(vfs.removexattr, 'removexattr').call(vfs, p, name, o()),
    async writeBig(p, bytes) {
      const h = await need(vfs.create, 'create').call(vfs, p, 0o644, o());
      try {
        for (let pos = 0; pos < bytes; pos += 1 << 20) await h.write!(pos, Buffer.alloc(Math.min(1 << 20, bytes - pos), 7), o());
      } finally {
        await h.close();
      }
    },
    async fdOpen(p, readOnly) {
      const id = next++;
      handles.set(id, await vfs.open(p, { write: !readOnly }, o()));
      return id;
    },
    async fdWrite(id, pos, data) {
      await handles.get(id)!.write!(pos, data, o());
    },
    async fdRead(id, pos, len) {
      return Buffer.from(await handles.get(id)!.read(pos, len, o()));
    },
    fdTruncate: (id, size) => handles.get(id)!.truncate!(size, o()),
    async fdClose(id) {
      await handles.get(id)?.close();
      handles.delete(id);
    },
    close: async () => {
      for (const h of handles.values()) await h.close().catch(() => {});
    },
  };
  return w;
}

/** Changes a tree through the OS at `root`, from a worker process run as `user` (root or nobody). */
export function processWriter(root: string, user: 'root' | 'nobody'): TreeWriter {
  const script = join(import.meta.dirname, 'fsWorker.mjs');
  const child: ChildProcess =
    user === 'root'
      ? spawn(process.execPath, [script, root], { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn('runuser', ['-u', 'nobody', '--', process.execPath, script, root], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let next = 1;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as { id: number; ok: boolean; value?: unknown; code?: string; message?: string };
    const p = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) p?.resolve(m.value);
    else p?.reject(Object.assign(new Error(`${m.code}: ${m.message}`), { code: m.code }));
  });
  child.once('exit', () => {
    for (const p of waiting.values()) p.reject(new Error('fs worker exited'));
  });
  // A path or target whose names are not UTF-8 (sys/byteNames.ts) goes as its bytes.
  const wire = (a: unknown): unknown => (typeof a === 'string' && hasRawBytes(a) ? { bytes: nameToBytes(a).toString('base64') } : a);
  const ask = <T>(op: string, ...args: unknown[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.stdin!.write(`${JSON.stringify({ id, op, args: args.map(wire) })}\n`);
    });
  const named = (b64: string): string => nameFromBytes(Buffer.from(b64, 'base64'));
  return {
    mkdir: (p, mode) => ask('mkdir', p, mode),
    create: (p, mode, text) => ask('create', p, mode, text),
    append: (p, text) => ask('append', p, text),
    read: async (p) => Buffer.from(await ask<string>('read', p), 'base64'),
    async stat(p) {
      const s = await ask<WStat & { atimeNs: string; mtimeNs: string }>('stat', p);
      return { ...s, atimeNs: BigInt(s.atimeNs), mtimeNs: BigInt(s.mtimeNs) };
    },
    chmod: (p, mode) => ask('chmod', p, mode),
    chown: (p, uid, gid) => ask('chown', p, uid, gid),
    truncate: (p, size) => ask('truncate', p, size),
    utimes: (p, a, m) => ask('utimes', p, a, m),
    rename: (a, b) => ask('rename', a, b),
    link: (a, b) => ask('link', a, b),
    unlink: (p) => ask('unlink', p),
    rmdir: (p) => ask('rmdir', p),
    mkfifo: (p, mode) => ask('mkfifo', p, mode),
    symlink: (target, p) => ask('symlink', target, p),
    readlink: async (p) => named(await ask<string>('readlinkBytes', p)),
    list: async (p) => (await ask<string[]>('list', p)).map(named).sort(),
    bindSocket: (p) => ask<string>('bindSocket', p),
    setxattr: (p, name, value) => ask('setxattr', p, name, value),
    getxattr: (p, name) => ask<string | undefined>('getxattr', p, name),
    listxattr: (p) => ask<string[]>('listxattr', p),
    removexattr: (p, name) => ask('removexattr', p, name),
    writeBig: (p, bytes) => ask('writeBig', p, bytes),
    fdOpen: (p, readOnly) => ask<number>('fdOpen', p, readOnly === true),
    fdWrite: (id, pos, data) => ask('fdWrite', id, pos, Buffer.from(data).toString('base64')),
    fdRead: async (id, pos, len) => Buffer.from(await ask<string>('fdRead', id, pos, len), 'base64'),
    fdTruncate: (id, size) => ask('fdTruncate', id, size),
    fdClose: (id) => ask('fdClose', id),
    close: async () => {
      child.stdin!.end();
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}
