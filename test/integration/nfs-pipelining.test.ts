import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { NfsGuest } from '../../src-main/guests/nfs.ts';
import { NfsClient } from '../../src-main/nfs/client/NfsClient.ts';
import { NfsServer } from '../../src-main/nfs/server/NfsServer.ts';
import type { CallOpts, Vfs } from '../../src-main/vfs/types.ts';

// The reference tool's bug: two calls back to back got each other's replies ("xid did
// not match"). Here 200 calls go out at once on one connection, the guest answers them
// in random order, and every reply must reach its own call. Then the server restarts
// under a live client.

const N = 200;
const content = (i: number): string => `file ${i} `.repeat(1 + (i % 7));

/** Delays getattr/open randomly so replies leave the server out of order; counts concurrency. */
function jittery(inner: Vfs): Vfs & { maxConcurrent: number } {
  let now = 0;
  const stats = { maxConcurrent: 0 };
  const delay = async <T>(fn: () => Promise<T>): Promise<T> => {
    now++;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, now);
    try {
      await new Promise((r) => setTimeout(r, Math.random() * 15));
      return await fn();
    } finally {
      now--;
    }
  };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'maxConcurrent') return stats.maxConcurrent;
      // No synchronous face: every call here must take the async path, to come back out of order
      // (nfs-sync-paths.test.ts pipelines the synchronous answers with the async ones).
      if (prop === 'now') return undefined;
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'getattr') return (p: string, o: CallOpts) => delay(() => target.getattr(p, o));
      if (prop === 'open') return (p: string, f: object, o: CallOpts) => delay(() => target.open(p, f, o));
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  }) as Vfs & { maxConcurrent: number };
}

describe('NFS calls pipelined on one connection', () => {
  let base: string;
  let dir: string;
  let local: Vfs;
  let guest: Vfs & { maxConcurrent: number };
  let server: NfsServer;
  let port: number;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'berth-nfs-pipe-'));
    dir = join(base, 'export');
    mkdirSync(dir);
    for (let i = 0; i < N; i++) writeFileSync(join(dir, `f${i}`), content(i));
    local = await openLocalGuest({ kind: 'local', path: dir, readOnly: false });
    guest = jittery(local);
    server = new NfsServer(guest, { readOnly: false });
    port = (await server.listen(0)).port;
  });

  afterAll(async () => {
    await server?.close();
    await local?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('200 lookups and reads issued back to back each get their own reply', async () => {
    const client = new NfsClient({ host: '127.0.0.1', port, cred: { uid: 0, gid: 0 } });
    try {
      const root = await client.mount('/');
      const results = await Promise.all(
        Array.from({ length: N }, async (_, i) => {
          const { fh, attr } = await client.lookup(root, `f${i}`);
          const { data, eof } = await client.read(fh, 0, 4096);
          return { i, size: attr?.size, text: data.toString(), eof };
        }),
      );
      for (const r of results) {
        expect(r.size, `f${r.i}`).toBe(Buffer.byteLength(content(r.i)));
        expect(r.text, `f${r.i}`).toBe(content(r.i));
        expect(r.eof).toBe(true);
      }
      expect(server.connectionCount).toBe(1);
      expect(guest.maxConcurrent).toBeGreaterThanOrEqual(16);
    } finally {
      await client.close();
    }
  });

  it('the nfs guest keeps its calls in flight at once', async () => {
    const vfs = await NfsGuest.open({ kind: 'nfs', server: `/ip4/127.0.0.1/tcp/${port}`, export: '/' });
    try {
      const o = { signal: AbortSignal.timeout(30_000) };
      const sizes = await Promise.all(Array.from({ length: N }, (_, i) => vfs.getattr(`/f${i}`, o).then((a) => a.size)));
      sizes.forEach((s, i) => expect(s).toBe(Buffer.byteLength(content(i))));
    } finally {
      await vfs.close();
    }
  });

  it('reconnects after the server restarts, reopens stale handles and retries unanswered calls', async () => {
    const vfs = await NfsGuest.open({ kind: 'nfs', server: `/ip4/127.0.0.1/tcp/${port}`, export: '/' });
    const o = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(30_000) });
    try {
      expect((await vfs.getattr('/f5', o())).size).toBe(Buffer.byteLength(content(5)));
      const h = await vfs.open('/f6', {}, o());
      await server.close();
      // Calls made while the server is away wait for it instead of failing.
      const pending = vfs.getattr('/f7', o());
      const read = h.read(0, 100, o());
      await new Promise((r) => setTimeout(r, 300));
      // A new server: a fresh handle table, so every handle the client holds is stale.
      server = new NfsServer(guest, { readOnly: false });
      await server.listen(port);
      expect((await pending).size).toBe(Buffer.byteLength(content(7)));
      expect(Buffer.from(await read).toString()).toBe(content(6));
      expect((await vfs.getattr('/f5', o())).size).toBe(Buffer.byteLength(content(5)));
      expect((vfs as NfsGuest).reconnects).toBeGreaterThanOrEqual(1);
      await h.close();
    } finally {
      await vfs.close();
    }
  });
});
