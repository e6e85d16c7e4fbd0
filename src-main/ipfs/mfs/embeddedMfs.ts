import { createReadStream } from 'node:fs';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { FsError } from '../../vfs/FsError.ts';
import type { EmbeddedNode } from '../embedded/EmbeddedNode.ts';
import { unixfsError } from '../embedded/EmbeddedNode.ts';
import type { NodeCallOpts } from '../IpfsNode.ts';
import { DAG_PB } from '../unixfsStat.ts';
import { type MfsBackend, type PutItem, type PutOutcome, unixfsMtime } from './MfsBackend.ts';

// MFS on the embedded node: the tree is a UnixFS folder whose root CID is kept in the
// repo's roots.json (PinStore, written by temp + fsync + rename). Each write rebuilds
// the folders from the changed entry up to the root with @helia/unixfs (cp with force,
// rm, mkdir, chmod, touch) and then records the new root in one step: a crash leaves
// the old tree or the new one. A rename is one such step, so it replaces its target
// atomically. Writes run one at a time (one tree, one root).

function segments(path: string): string[] {
  return path.split('/').filter(Boolean);
}

/** The embedded node's MFS. */
export class EmbeddedMfs implements MfsBackend {
  /** Writes run one after another. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly node: EmbeddedNode) {}

  private async root(): Promise<CID> {
    const text = await this.node.roots.mfsRoot();
    if (text) return CID.parse(text);
    const empty = await this.node.fs.addDirectory();
    await this.node.roots.setMfsRoot(empty.toString());
    return CID.parse(empty.toString());
  }

  /** Runs one write: `fn` gets the current root and returns the new one, which is then recorded. */
  private write(what: string, fn: (root: CID) => Promise<CID>): Promise<void> {
    const next = this.queue.then(async () => {
      try {
        const newRoot = await fn(await this.root());
        await this.node.roots.setMfsRoot(newRoot.toString());
      } catch (err) {
        throw unixfsError(err, what);
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The CID at `segs` below `dir`; NotExist when a name is missing. */
  private async at(dir: CID, segs: string[], opts: NodeCallOpts): Promise<CID> {
    if (segs.length === 0) return dir;
    try {
      const s = await this.node.fs.stat(dir, { path: segs.join('/'), signal: opts.signal, offline: true });
      return CID.parse(s.cid.toString());
    } catch (err) {
      throw unixfsError(err, `mfs ${segs.join('/')}`);
    }
  }

  /** Rebuilds the folders along `dirSegs` after `change` made a new version of the last one. */
  private async rewrite(dir: CID, dirSegs: string[], change: (leafDir: CID) => Promise<CID>, opts: NodeCallOpts): Promise<CID> {
    if (dirSegs.length === 0) return await change(dir);
    const [head, ...rest] = dirSegs;
    const child = await this.at(dir, [head!], opts);
    if (child.code !== DAG_PB) throw new FsError('NotDir', `${head!} is not a folder`);
    const updated = await this.rewrite(child, rest, change, opts);
    return CID.parse((await this.node.fs.cp(updated, dir, head!, { force: true, signal: opts.signal, offline: true })).toString());
  }

  private split(path: string): { dir: string[]; name: string } {
    const segs = segments(path);
    const name = segs.pop();
    if (!name) throw new FsError('InvalidItem', 'the MFS root has no name');
    return { dir: segs, name };
  }

  async cidOf(path: string, opts: NodeCallOpts): Promise<string> {
    await this.queue;
    return (await this.at(await this.root(), segments(path), opts)).toString();
  }

  private async has(dir: CID, name: string, opts: NodeCallOpts): Promise<boolean> {
    try {
      await this.at(dir, [name], opts);
      return true;
    } catch (err) {
      if (err instanceof FsError && err.kind === 'NotExist') return false;
      throw err;
    }
  }

  async mkdir(path: string, opts: NodeCallOpts): Promise<void> {
    const { dir, name } = this.split(path);
    await this.write(`mkdir ${path}`, (root) =>
      this.rewrite(root, dir, async (d) => {
        if (await this.has(d, name, opts)) throw new FsError('Exist', `mkdir ${path}: something is already there`);
        return CID.parse((await this.node.fs.mkdir(d, name, { signal: opts.signal, offline: true })).toString());
      }, opts),
    );
  }

  async rm(path: string, opts: NodeCallOpts): Promise<void> {
    const { dir, name } = this.split(path);
    await this.write(`rm ${path}`, (root) =>
      this.rewrite(root, dir, async (d) => {
        if (!(await this.has(d, name, opts))) throw new FsError('NotExist', `rm ${path}: nothing is there`);
        return CID.parse((await this.node.fs.rm(d, name, { signal: opts.signal, offline: true })).toString());
      }, opts),
    );
  }

  /** Links `cid` as `name` in the folder at `dir`, replacing what was there. */
  private place(root: CID, dir: string[], name: string, cid: CID, opts: NodeCallOpts): Promise<CID> {
    return this.rewrite(root, dir, async (d) => CID.parse((await this.node.fs.cp(cid, d, name, { force: true, signal: opts.signal, offline: true })).toString()), opts);
  }

  async mv(from: string, to: string, opts: NodeCallOpts): Promise<void> {
    if (from === to) return;
    const src = this.split(from);
    const dst = this.split(to);
    await this.write(`mv ${from} ${to}`, async (root) => {
      const cid = await this.at(root, [...src.dir, src.name], opts);
      const without = await this.rewrite(root, src.dir, async (d) => CID.parse((await this.node.fs.rm(d, src.name, { signal: opts.signal, offline: true })).toString()), opts);
      return await this.place(without, dst.dir, dst.name, cid, opts);
    });
  }

  /**
   * Imports every file first (the blocks are there before anything links them), then
   * links them all in ONE tree write: one rewrite of each parent folder's path and one
   * roots.json update for the batch, not one per file.
   */
  async putFiles(items: readonly PutItem[], opts: NodeCallOpts): Promise<PutOutcome[]> {
    const out: PutOutcome[] = new Array<PutOutcome>(items.length);
    const groups = new Map<string, Array<{ i: number; name: string; cid: CID }>>();
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      try {
        const { dir, name } = this.split(it.path);
        const cid = await this.importFile(it, opts);
        const key = dir.join('/');
        const g = groups.get(key) ?? [];
        g.push({ i, name, cid });
        groups.set(key, g);
      } catch (err) {
        out[i] = { error: unixfsError(err, `write ${it.path}`) };
      }
    }
    const link = (root: CID, dir: string, entries: Array<{ name: string; cid: CID }>): Promise<CID> =>
      this.rewrite(root, segments(dir), async (d) => {
        let next = d;
        for (const e of entries) next = CID.parse((await this.node.fs.cp(e.cid, next, e.name, { force: true, signal: opts.signal, offline: true })).toString());
        return next;
      }, opts);
    const settle = (entries: Array<{ i: number; cid: CID }>, error?: FsError): void => {
      for (const e of entries) out[e.i] = error ? { error } : { cid: e.cid.toString() };
    };
    try {
      await this.write(`write ${items.length} file(s)`, async (root) => {
        let next = root;
        for (const [dir, entries] of groups) next = await link(next, dir, entries);
        return next;
      });
      for (const entries of groups.values()) settle(entries);
    } catch {
      // one folder at a time, so one that went away fails only its own files
      for (const [dir, entries] of groups) {
        try {
          await this.write(`write into /${dir}`, (root) => link(root, dir, entries));
          settle(entries);
        } catch (err) {
          settle(entries, unixfsError(err, `write into /${dir}`));
        }
      }
    }
    return out;
  }

  /** Imports one local file with its mode and mtime (a dag-pb root then holds them). */
  private async importFile(it: PutItem, opts: NodeCallOpts): Promise<CID> {
    const content = createReadStream(it.localFile, { highWaterMark: 1 << 20 });
    const t = it.mtimeMs === undefined ? undefined : unixfsMtime(it.mtimeMs);
    const meta = {
      ...(it.mode !== undefined ? { mode: it.mode & 0o7777 } : {}),
      ...(t ? { mtime: { secs: BigInt(t.secs), nsecs: t.nsecs } } : {}),
    };
    return CID.parse((await this.node.fs.addByteStream(content, { signal: opts.signal, ...meta })).toString());
  }

  async symlink(target: string, path: string, opts: NodeCallOpts): Promise<void> {
    const { dir, name } = this.split(path);
    const block = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'symlink', data: new TextEncoder().encode(target) }).marshal() }));
    const cid = CID.createV1(DAG_PB, await sha256.digest(block));
    await this.node.blocks.putBytes(cid, block);
    await this.write(`symlink ${path}`, (root) =>
      this.rewrite(root, dir, async (d) => {
        if (await this.has(d, name, opts)) throw new FsError('Exist', `symlink ${path}: something is already there`);
        return CID.parse((await this.node.fs.cp(cid, d, name, { signal: opts.signal, offline: true })).toString());
      }, opts),
    );
  }

  /** Replaces the entry at `path` with what `change` makes of it. */
  private async modify(path: string, what: string, change: (cid: CID) => Promise<CID>, opts: NodeCallOpts): Promise<void> {
    const { dir, name } = this.split(path);
    await this.write(what, async (root) => {
      const cid = await this.at(root, [...dir, name], opts);
      return await this.place(root, dir, name, await change(cid), opts);
    });
  }

  async chmod(path: string, mode: number, opts: NodeCallOpts): Promise<void> {
    await this.modify(path, `chmod ${path}`, async (cid) => CID.parse((await this.node.fs.chmod(cid, mode & 0o7777, { signal: opts.signal, offline: true })).toString()), opts);
  }

  async touch(path: string, mtimeMs: number, opts: NodeCallOpts): Promise<void> {
    const mtime = { secs: BigInt(Math.floor(mtimeMs / 1000)), nsecs: Math.floor((mtimeMs % 1000) * 1e6) };
    await this.modify(path, `touch ${path}`, async (cid) => CID.parse((await this.node.fs.touch(cid, { mtime, signal: opts.signal, offline: true })).toString()), opts);
  }
}
