import { openAsBlob } from 'node:fs';
import { posix } from 'node:path';
import { FsError, toFsError } from '../../vfs/FsError.ts';
import type { NodeCallOpts } from '../IpfsNode.ts';
import { canonicalCid } from '../canonicalCid.ts';
import type { KuboNode } from '../kubo.ts';
import { ndjson } from '../kuboRpc.ts';
import { KuboMfs } from './kuboMfs.ts';
import { type PutItem, type PutOutcome, unixfsMtime } from './MfsBackend.ts';

// The js-ipfs peer's MFS differences (PEERS.md), kept out of the Kubo path:
// - `flush: false` deadlocks its MFS lock until restart: KuboMfs never sends it;
// - `mv` onto an existing name fails: KuboMfs removes the target first on every node;
// - reads with offset > size error: the guest reads by CID, clipped to the size;
// - kubo-rpc-client 7 has no chmod/touch: KuboMfs calls `files/chmod`/`files/touch` raw;
// - its `block/put` takes the codec as `format` (Kubo: `cid-codec`), handled here;
// - its `add` has no `--to-files` and ignores mode/mtime options: it reads them from each
//   multipart part's name (`file?mode=0644&mtime=…`, kubo-rpc-client's convention);
// - its `files/cp` takes several sources into a folder in ONE MFS update, replacing names
//   already there (one source onto an existing name fails). Every MFS update re-hashes the
//   path to the root and flushes: ~17 ms of its CPU per call here, most of a small file's
//   cost. So a batch of files is one `add` (wrapped, one group folder per MFS parent) and
//   one `files/cp` per parent folder (putFiles below).

/**
 * Bytes of `arg=` values one call may carry: the arguments travel in the URL, and js-ipfs's
 * HTTP server refuses a request line over 16 KiB (Node's header limit) with an empty 431.
 */
const MAX_ARGS_BYTES = 8 * 1024;

/** `members` cut into runs whose sources fit one call's URL. */
function urlSized(members: number[], source: (i: number) => string): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let bytes = 0;
  for (const i of members) {
    const n = encodeURIComponent(source(i)).length + 5;
    if (cur.length > 0 && bytes + n > MAX_ARGS_BYTES) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(i);
    bytes += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** KuboMfs with the js-ipfs peer's block/put and batched puts. */
export class JsIpfsMfs extends KuboMfs {
  constructor(
    kubo: KuboNode,
    private readonly isJsIpfs: (signal: AbortSignal) => Promise<boolean>,
  ) {
    super(kubo);
  }

  protected override async putPbBlock(block: Uint8Array, opts: NodeCallOpts): Promise<string> {
    if (!(await this.isJsIpfs(opts.signal))) return await super.putPbBlock(block, opts);
    const form = new FormData();
    form.append('file', new Blob([block]), 'block');
    try {
      const r = await this.kubo.rpc.json<{ Key?: string }>('block/put', { format: 'dag-pb', mhtype: 'sha2-256', version: 1 }, opts.signal, form);
      if (!r.Key) throw new Error('the node answered without a Key');
      return r.Key;
    } catch (err) {
      throw this.fail(err, 'block put', opts);
    }
  }

  override async putFiles(items: readonly PutItem[], opts: NodeCallOpts): Promise<PutOutcome[]> {
    if (items.length === 0) return [];
    if (!(await this.isJsIpfs(opts.signal))) return await super.putFiles(items, opts);
    // group by parent folder: group k is folder `g<k>` of the wrapped add
    const groups = new Map<string, number[]>();
    items.forEach((it, i) => {
      const dir = posix.dirname(it.path);
      const g = groups.get(dir);
      if (g) g.push(i);
      else groups.set(dir, [i]);
    });
    const out: PutOutcome[] = new Array<PutOutcome>(items.length);
    let added: { wrap: string; cids: string[] };
    try {
      added = await this.addWrapped(items, [...groups.values()], opts);
    } catch (err) {
      const error = toFsError(err);
      return items.map(() => ({ error }));
    }
    let k = 0;
    for (const [dir, members] of groups) {
      const group = k++;
      const dest = dir.endsWith('/') ? dir : `${dir}/`;
      const rest: number[] = [];
      for (const chunk of urlSized(members, (i) => `/ipfs/${added.wrap}/g${group}/${posix.basename(items[i]!.path)}`)) {
        if (chunk.length < 2) {
          rest.push(...chunk);
          continue;
        }
        try {
          await this.kubo.rpc.run('files/cp', { arg: [...chunk.map((i) => `/ipfs/${added.wrap}/g${group}/${posix.basename(items[i]!.path)}`), dest] }, opts.signal);
          for (const i of chunk) out[i] = { cid: added.cids[i]! };
        } catch {
          // one at a time below, each with its own outcome
          rest.push(...chunk);
        }
      }
      for (const i of rest) {
        try {
          out[i] = { cid: await this.linkOne(added.cids[i]!, items[i]!, opts) };
        } catch (err) {
          out[i] = { error: toFsError(err) };
        }
      }
    }
    return out;
  }

  /** Links one imported file at its path: a new name in one call, else in place of the old. */
  private async linkOne(cid: string, item: PutItem, opts: NodeCallOpts): Promise<string> {
    if (item.isNew) {
      try {
        await this.kubo.rpc.run('files/cp', { arg: [`/ipfs/${cid}`, item.path] }, opts.signal);
        return cid;
      } catch (err) {
        const e = this.fail(err, `files cp /ipfs/${cid} ${item.path}`, opts);
        if (e.kind !== 'Exist') throw e;
      }
    }
    await this.link(cid, item.path, opts);
    return cid;
  }

  /** One `add` of every item, as `g<group>/<name>` in a wrapping folder; the CIDs in item order. */
  private async addWrapped(items: readonly PutItem[], groups: number[][], opts: NodeCallOpts): Promise<{ wrap: string; cids: string[] }> {
    const form = new FormData();
    const nameOf = new Map<string, number>();
    for (let g = 0; g < groups.length; g++) {
      for (const i of groups[g]!) {
        const it = items[i]!;
        const meta: string[] = [];
        if (it.mode !== undefined) meta.push(`mode=${(it.mode & 0o7777).toString(8).padStart(4, '0')}`);
        if (it.mtimeMs !== undefined) {
          const t = unixfsMtime(it.mtimeMs);
          meta.push(`mtime=${t.secs}`);
          if (t.nsecs) meta.push(`mtime-nsecs=${t.nsecs}`);
        }
        const entry = `g${g}/${posix.basename(it.path)}`;
        nameOf.set(entry, i);
        form.append(meta.length ? `file?${meta.join('&')}` : 'file', await openAsBlob(it.localFile), encodeURIComponent(entry));
      }
    }
    const what = `add of ${items.length} file(s) for ${items[0]!.path}${items.length > 1 ? ' …' : ''}`;
    const cids: string[] = new Array<string>(items.length);
    let wrap: string | undefined;
    try {
      await this.kubo.rpc.call('add', { 'cid-version': 1, 'raw-leaves': true, chunker: 'size-1048576', pin: false, 'wrap-with-directory': true }, opts.signal, async (res) => {
        for await (const line of ndjson(res)) {
          const { Name, Hash } = line as { Name?: string; Hash?: string };
          const cid = Hash ? canonicalCid(Hash) : undefined;
          if (!cid) continue;
          if (Name === '') wrap = cid;
          const i = Name === undefined ? undefined : nameOf.get(Name);
          if (i !== undefined) cids[i] = cid;
        }
      }, form);
    } catch (err) {
      throw this.fail(err, what, opts);
    }
    if (!wrap || cids.some((c) => c === undefined) || cids.length !== items.length) {
      throw new FsError('IO', `${what}: the node at ${this.kubo.address} did not report a CID for every file`);
    }
    return { wrap, cids };
  }
}
