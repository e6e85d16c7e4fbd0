import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unmountFuse } from '../../src-main/hosts/fuseUnmount.ts';
import { connectNode } from '../../src-main/ipfs/discover.ts';
import { decodeListing, encodeListing } from '../../src-main/ipfs/ListingStore.ts';
import { type CliMount, cliMount } from '../conformance/cliMount.ts';
import type { AddedFixture } from '../helpers/fixtures.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { sharedIpfsPeer, type SharedIpfsPeer } from '../helpers/sharedPeers.ts';
import { fuseMounts, hasCommand, missingFuse, missingPeer } from '../helpers/peers.ts';
import { type RpcProxy, startRpcProxy } from '../helpers/rpcProxy.ts';
import { lsLn, q, sh } from '../helpers/shell.ts';

// Issue 11, row 3: folder listings kept on disk by CID. A fresh FUSE mount of the 5,000-entry
// sharded folder lists it from the kept listing without the node's `ls`, for any mount and
// process; file content still comes from the node. The node is reached through a small HTTP
// proxy that records every RPC path and can refuse `ls`, or everything.

const v1 = (c: string): string => CID.parse(c).toV1().toString();

const skip =
  missingFuse() ??
  missingIpfsPeer() ??
  missingPeer('getfattr', () => hasCommand('getfattr'), 'apt-get install attr');

describe.skipIf(skip)('issue 11: folder listings kept on disk by CID', () => {
  let base: string;
  let cacheHome: string;
  let peer: SharedIpfsPeer;
  let added: AddedFixture;
  let proxy: RpcProxy | undefined;
  let manyCid: string;
  /** The node's own listing of many/: name -> "type|size|cid". */
  const truth = new Map<string, string>();
  const mounts: CliMount[] = [];

  const listingsDir = (): string => join(cacheHome, 'berth', 'listings');
  const keptFile = (): string => join(listingsDir(), `${v1(manyCid)}.lst`);

  /** A fresh foreground mount of the /ipfs namespace through the proxy, with the test's cache folder. */
  const mount = async (name: string): Promise<{ mnt: string; m: CliMount }> => {
    const mnt = join(base, name);
    mkdirSync(mnt, { recursive: true });
    const m = await cliMount(['fuse', 'ipfs', '--ipfs-api', proxy!.multiaddr, '--timeout', '10s', mnt], { ...process.env, XDG_CACHE_HOME: cacheHome });
    mounts.push(m);
    return { mnt, m };
  };

  /** `ls -ln` of many/ through the mount as name -> "type|size". */
  const listed = async (mnt: string): Promise<Map<string, string>> => {
    const { r, entries } = await lsLn(join(mnt, manyCid));
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    return entries;
  };

  const expectSameAsNode = (got: Map<string, string>): void => {
    expect(got.size).toBe(truth.size);
    for (const [name, t] of truth) {
      const [type, size] = t.split('|');
      expect({ name, got: got.get(name) }).toEqual({ name, got: `${type === 'dir' ? 'd' : '-'}|${size}` });
    }
  };

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'berth-listing-cache-'));
    cacheHome = join(base, 'cache');
    ({ peer, added } = await sharedIpfsPeer({ fixture: true }));
    manyCid = added.cids.get('many')!;
    for await (const e of peer.client.ls(manyCid)) truth.set(e.name, `${e.type}|${e.size}|${e.cid.toString()}`);
    expect(truth.size).toBe(5000);
    proxy = await startRpcProxy(peer.apiUrl);
  }, 600_000);

  afterAll(async () => {
    for (const m of mounts) await m.stop().catch(() => {});
    for (const p of fuseMounts().filter((p) => base && p.startsWith(base))) await unmountFuse(p, 'immediate', { graceMs: 0 }).catch(() => {});
    await proxy?.close();
    expect(fuseMounts().filter((p) => base && p.startsWith(base))).toEqual([]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('cold: the first fresh mount lists the sharded folder as the node does, asks its `ls` once and keeps the listing', async () => {
    const { mnt, m } = await mount('cold');
    proxy!.commands.length = 0;
    expectSameAsNode(await listed(mnt));
    expect(proxy!.commands.filter((c) => c === 'ls')).toHaveLength(1);
    expect(await m.stop()).toBe(0);
    const kept = decodeListing(manyCid, readFileSync(keptFile()));
    expect(kept.map((e) => `${e.name}|${e.type}|${e.size}|${e.cid}`).sort()).toEqual([...truth].map(([n, t]) => `${n}|${t}`).sort());
  });

  it('warm: a second fresh mount lists it with the node refusing `ls`; reading a file still needs the node', async () => {
    const { mnt, m } = await mount('warm');
    try {
      proxy!.refuse = (c) => c === 'ls';
      proxy!.commands.length = 0;
      expectSameAsNode(await listed(mnt));
      expect(proxy!.commands).not.toContain('ls');
      expect((await sh(`cat ${q(join(mnt, manyCid, 'f0001.txt'))}`)).out).toBe('entry 1\n');
      // user.ipfs.cid still answers on every entry; what `ls -l` asks is "none", as before
      const attrs = await sh(`cd ${q(join(mnt, manyCid))} && getfattr --absolute-names -n user.ipfs.cid -- * | grep -c '^user.ipfs.cid="'`);
      expect(attrs.out.trim()).toBe('5000');
      const one = await sh(`cd ${q(join(mnt, manyCid))} && getfattr --only-values -n user.ipfs.cid f4999.txt`);
      expect(v1(one.out.trim())).toBe(v1(truth.get('f4999.txt')!.split('|')[2]!));
      for (const name of ['security.selinux', 'system.posix_acl_access']) {
        const r = await sh(`getfattr --absolute-names -n ${name} ${q(join(mnt, manyCid, 'f4999.txt'))}`);
        expect({ name, code: r.code, none: /No such attribute|Operation not supported/.test(r.err) }).toEqual({ name, code: 1, none: true });
      }
      // with the node gone, content not read yet cannot be served
      proxy!.refuse = () => true;
      const r = await sh(`cat ${q(join(mnt, manyCid, 'f0002.txt'))}`, 30_000);
      expect({ code: r.code, eio: /Input\/output error|timed out/.test(r.err) }).toEqual({ code: 1, eio: true });
    } finally {
      proxy!.refuse = undefined;
      expect(await m.stop()).toBe(0);
    }
  });

  it('a corrupted kept listing is ignored with a log line, the node asked again, and the file rewritten', async () => {
    const file = keptFile();
    const bytes = readFileSync(file);
    // one entry's size changed: only the checksum tells
    const bad = Buffer.from(bytes.toString('utf8').replace('"f0003.txt"', '"f0003.txX"'));
    expect(bad.equals(bytes)).toBe(false);
    writeFileSync(file, bad);
    const { mnt, m } = await mount('corrupt');
    proxy!.commands.length = 0;
    expectSameAsNode(await listed(mnt));
    expect(proxy!.commands.filter((c) => c === 'ls')).toHaveLength(1);
    expect(await m.stop()).toBe(0);
    expect(m.log.err).toMatch(/listing cache: ignoring .*checksum mismatch/);
    expect(decodeListing(manyCid, readFileSync(file))).toHaveLength(5000);
    // a foreign file in its place (another CID's listing, valid in itself) is not used either
    const other = readdirSync(listingsDir()).filter((n) => n.endsWith('.lst'));
    expect(other).toEqual([`${v1(manyCid)}.lst`]);
    writeFileSync(file, 'not a listing at all\n');
    const again = await mount('foreign');
    proxy!.commands.length = 0;
    expectSameAsNode(await listed(again.mnt));
    expect(proxy!.commands.filter((c) => c === 'ls')).toHaveLength(1);
    expect(await again.m.stop()).toBe(0);
    expect(again.m.log.err).toMatch(/listing cache: ignoring .*bad header/);
  });
});

describe.skipIf(missingFuse())('issue 11: listings kept by CID with the embedded node', () => {
  let work: string;
  const mounts: CliMount[] = [];
  afterAll(async () => {
    for (const m of mounts) await m.stop().catch(() => {});
    for (const p of fuseMounts().filter((p) => work && p.startsWith(work))) await unmountFuse(p, 'immediate', { graceMs: 0 }).catch(() => {});
    expect(fuseMounts().filter((p) => work && p.startsWith(work))).toEqual([]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a listing taken through the embedded node is kept, and the next fresh mount lists from it', async () => {
    work = mkdtempSync(join(tmpdir(), 'berth-listing-embedded-'));
    const env = { ...process.env, XDG_DATA_HOME: join(work, 'data'), XDG_CACHE_HOME: join(work, 'cache') };
    const src = join(work, 'src');
    mkdirSync(src);
    for (let i = 0; i < 100; i++) writeFileSync(join(src, `f${String(i).padStart(3, '0')}.txt`), `file ${i}\n`);
    const node = await connectNode('embedded', { gateways: [], offline: true, env });
    const { cid } = await node.add(src, { signal: AbortSignal.timeout(60_000) });
    await node.close();
    const mnt = join(work, 'mnt');
    mkdirSync(mnt);
    const names = async (): Promise<string[]> => {
      const m = await cliMount(['fuse', 'ipfs', '--ipfs-api', 'embedded', mnt], env);
      mounts.push(m);
      const r = await sh(`ls -1 ${q(join(mnt, cid))}`);
      expect(await m.stop()).toBe(0);
      expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
      return r.out.trim().split('\n');
    };
    const first = await names();
    expect(first).toEqual(Array.from({ length: 100 }, (_, i) => `f${String(i).padStart(3, '0')}.txt`));
    const file = join(env.XDG_CACHE_HOME, 'berth', 'listings', `${v1(cid)}.lst`);
    const kept = decodeListing(cid, readFileSync(file));
    expect(kept.map((e) => e.name)).toEqual(first);
    // a kept listing with one more name (valid, checksummed): a mount that shows it read the file, not the node
    writeFileSync(file, encodeListing(cid, [...kept, { ...kept[0]!, name: 'only-in-the-kept-listing.txt' }]));
    expect(await names()).toEqual([...first, 'only-in-the-kept-listing.txt']);
  });
});
