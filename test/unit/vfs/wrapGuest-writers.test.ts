import { describe, expect, it } from 'vitest';
import type { Attr, CallOpts, Caller, DirEntry, FileHandle, SetAttr, SpecialType, StatFs, Vfs } from '../../../src-main/vfs/types.ts';
import { wrapGuest } from '../../../src-main/vfs/wrapGuest.ts';

// The wrappers every host serves (deadlines, metadata cache) must hand the caller's
// identity and the newer writers (link, mknod) on to the guest, not drop them.

const attr = (): Attr => ({ type: 'file', mode: 0o644, size: 0, nlink: 1, uid: 0, gid: 0, ino: 2, mtime: 0, atime: 0, ctime: 0 });

/** Records who called what. */
class Recorder implements Vfs {
  readonly name = 'recorder';
  readonly readOnly = false;
  calls: Array<{ op: string; caller: Caller | undefined; args: unknown[] }> = [];
  private rec(op: string, o: CallOpts, ...args: unknown[]): void {
    this.calls.push({ op, caller: o.caller, args });
  }
  async getattr(p: string, o: CallOpts): Promise<Attr> { this.rec('getattr', o, p); return attr(); }
  async *readdir(p: string, o: CallOpts): AsyncIterable<DirEntry> { this.rec('readdir', o, p); yield { name: 'x', attr: attr() }; }
  async open(p: string, _f: object, o: CallOpts): Promise<FileHandle> {
    this.rec('open', o, p);
    return {
      read: async () => new Uint8Array(0),
      getattr: async (ho: CallOpts) => (this.rec('handle getattr', ho, p), attr()),
      setattr: async (a: SetAttr, ho: CallOpts) => (this.rec('handle setattr', ho, p, a), { ...attr(), mode: a.mode ?? 0o644 }),
      close: async () => {},
    };
  }
  async readlink(p: string, o: CallOpts): Promise<string> { this.rec('readlink', o, p); return 't'; }
  async statfs(o: CallOpts): Promise<StatFs> { this.rec('statfs', o); return { blockSize: 1, blocks: 1, blocksFree: 1, blocksAvail: 1, files: 1, filesFree: 1, nameMax: 255 }; }
  async getxattr(_p: string, _n: string): Promise<Uint8Array | undefined> { return undefined; }
  async listxattr(): Promise<string[]> { return []; }
  async link(target: string, path: string, o: CallOpts): Promise<void> { this.rec('link', o, target, path); }
  async mknod(path: string, type: SpecialType, mode: number, rdev: number, o: CallOpts): Promise<void> { this.rec('mknod', o, path, type, mode, rdev); }
  async mkdir(path: string, mode: number, o: CallOpts): Promise<void> { this.rec('mkdir', o, path, mode); }
  async close(): Promise<void> {}
}

describe('wrapGuest', () => {
  const caller: Caller = { uid: 65534, gid: 65534, groups: [100] };
  const opts = { signal: new AbortController().signal, caller };

  it('passes the caller through deadlines and caches to every call', async () => {
    const g = new Recorder();
    const v = wrapGuest(g);
    await v.getattr('/a', opts);
    for await (const _ of v.readdir('/', opts)) void _;
    await v.mkdir!('/d', 0o700, opts);
    expect(g.calls.map((c) => [c.op, c.caller])).toEqual([
      ['getattr', caller],
      ['readdir', caller],
      ['mkdir', caller],
    ]);
  });

  it('keeps link and mknod, with their arguments and the caller', async () => {
    const g = new Recorder();
    const v = wrapGuest(g);
    await v.link!('/a', '/b', opts);
    await v.mknod!('/f', 'fifo', 0o640, 0, opts);
    expect(g.calls).toEqual([
      { op: 'link', caller, args: ['/a', '/b'] },
      { op: 'mknod', caller, args: ['/f', 'fifo', 0o640, 0] },
    ]);
  });

  it('forgets the cached attributes of a link target (its link count changed)', async () => {
    const g = new Recorder();
    const v = wrapGuest(g, { cacheExpiryMs: 60_000 });
    await v.getattr('/a', opts);
    await v.getattr('/a', opts);
    expect(g.calls.filter((c) => c.op === 'getattr')).toHaveLength(1);
    await v.link!('/a', '/b', opts);
    await v.getattr('/a', opts);
    expect(g.calls.filter((c) => c.op === 'getattr')).toHaveLength(2);
  });

  it("hands an open file's own getattr and setattr on, with the caller, and forgets the path's cached attributes after a setattr", async () => {
    const g = new Recorder();
    const v = wrapGuest(g, { cacheExpiryMs: 60_000 });
    const h = await v.open('/a', {}, opts);
    await v.getattr('/a', opts);
    await v.getattr('/a', opts); // kept: not asked
    expect((await h.getattr!(opts)).size).toBe(0);
    expect((await h.setattr!({ mode: 0o600 }, opts))?.mode).toBe(0o600);
    await v.getattr('/a', opts); // forgotten by the setattr: asked again
    expect(g.calls.map((c) => [c.op, c.caller])).toEqual([
      ['open', caller],
      ['getattr', caller],
      ['handle getattr', caller],
      ['handle setattr', caller],
      ['getattr', caller],
    ]);
  });
});
