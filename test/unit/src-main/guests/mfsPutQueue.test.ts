import { describe, expect, it } from 'vitest';
import { PutQueue, WINDOW_MS } from '../../../../src-main/guests/mfsPutQueue.ts';
import type { PutItem, PutOutcome } from '../../../../src-main/ipfs/mfs/MfsBackend.ts';
import { FsError } from '../../../../src-main/vfs/FsError.ts';

/** A queue on a recording backend and a one-at-a-time lock like the guest's. */
function harness(fail?: (it: PutItem) => FsError | undefined) {
  const batches: string[][] = [];
  const log: string[] = [];
  let lock: Promise<unknown> = Promise.resolve();
  const exclusive = (fn: () => Promise<void>): Promise<void> => {
    const next = lock.then(fn);
    lock = next.catch(() => undefined);
    return next;
  };
  const q = new PutQueue(async (items): Promise<PutOutcome[]> => {
    batches.push(items.map((i) => i.path));
    log.push(`put ${items.map((i) => i.path).join(',')}`);
    await new Promise((r) => setTimeout(r, 1));
    return items.map((i) => {
      const e = fail?.(i);
      return e ? { error: e } : { cid: `cid:${i.path}:${i.mode ?? ''}` };
    });
  }, exclusive);
  const item = (path: string, extra: Partial<PutItem> = {}) => (): PutItem => ({ path, localFile: `/tmp/${path}`, isNew: true, ...extra });
  return { q, batches, log, exclusive, item };
}

describe('PutQueue', () => {
  it('batches puts nobody waits for within the window, in the order they came', async () => {
    const { q, batches, item } = harness();
    const done = ['/a', '/b', '/c'].map((p) => q.put(p, item(p), false));
    expect(batches).toEqual([]);
    expect(await Promise.all(done)).toEqual(['cid:/a:', 'cid:/b:', 'cid:/c:']);
    expect(batches).toEqual([['/a', '/b', '/c']]);
  });

  it('an urgent put starts the batch at once and takes the waiting ones along', async () => {
    const { q, batches, item } = harness();
    const t0 = Date.now();
    const a = q.put('/a', item('/a'), false);
    const b = q.put('/b', item('/b'), true);
    await Promise.all([a, b]);
    expect(batches).toEqual([['/a', '/b']]);
    expect(Date.now() - t0).toBeLessThan(WINDOW_MS * 20); // not a timing claim: only that it did not hang
  });

  it('hurry() starts a batch waiting for the window', async () => {
    const { q, batches, item } = harness();
    const a = q.put('/a', item('/a'), false);
    q.hurry();
    await Promise.resolve();
    await a;
    expect(batches).toEqual([['/a']]);
  });

  it('two puts of one path never share a batch, and the later one lands last', async () => {
    const { q, batches, item } = harness();
    const r = await Promise.all([q.put('/a', item('/a', { mode: 1 }), false), q.put('/b', item('/b'), false), q.put('/a', item('/a', { mode: 2 }), false)]);
    expect(r).toEqual(['cid:/a:1', 'cid:/b:', 'cid:/a:2']);
    expect(batches).toEqual([['/a', '/b'], ['/a']]);
  });

  it('runs a batch in the lock after the changes queued before it entered; a put may join a batch still waiting there', async () => {
    const { q, log, exclusive, item } = harness();
    const mv = exclusive(async () => {
      log.push('mv');
    });
    const a = q.put('/a', item('/a'), true);
    const rm = exclusive(async () => {
      log.push('rm');
    });
    // queued after rm, but the batch of /a has not started: /b goes in with it
    const b = q.put('/b', item('/b'), true);
    await Promise.all([mv, a, rm, b]);
    const c = q.put('/c', item('/c'), true);
    const last = exclusive(async () => {
      log.push('last');
    });
    await Promise.all([c, last]);
    expect(log).toEqual(['mv', 'put /a,/b', 'rm', 'put /c', 'last']);
  });

  it('asks for items when the batch starts: metadata set meanwhile goes in, a file removed meanwhile is skipped', async () => {
    const { q, batches } = harness();
    let mode = 0o644;
    let orphaned = false;
    const a = q.put('/a', () => ({ path: '/a', localFile: '/tmp/a', isNew: true, mode }), false);
    const b = q.put('/b', () => (orphaned ? undefined : { path: '/b', localFile: '/tmp/b', isNew: true }), false);
    mode = 0o600;
    orphaned = true;
    expect(await Promise.all([a, b])).toEqual([`cid:/a:${0o600}`, undefined]);
    expect(batches).toEqual([['/a']]);
  });

  it('gives each waiter its own outcome, and a failed backend call fails the whole batch', async () => {
    const { q, item } = harness((it) => (it.path === '/bad' ? new FsError('NotExist', 'no parent') : undefined));
    const [ok, bad] = await Promise.allSettled([q.put('/ok', item('/ok'), false), q.put('/bad', item('/bad'), false)]);
    expect(ok).toEqual({ status: 'fulfilled', value: 'cid:/ok:' });
    expect(bad.status === 'rejected' && (bad.reason as FsError).kind).toBe('NotExist');

    let lock: Promise<unknown> = Promise.resolve();
    const broken = new PutQueue(
      async () => {
        throw new Error('node went away');
      },
      (fn) => {
        const next = lock.then(fn);
        lock = next.catch(() => undefined);
        return next;
      },
    );
    await expect(broken.put('/x', item('/x'), true)).rejects.toMatchObject({ kind: 'IO' });
  });

  it('splits more than one batch worth of puts, losing none', async () => {
    const { q, batches, item } = harness();
    const paths = Array.from({ length: 600 }, (_, i) => `/f${i}`);
    const r = await Promise.all(paths.map((p) => q.put(p, item(p), false)));
    expect(r).toEqual(paths.map((p) => `cid:${p}:`));
    expect(batches.flat()).toEqual(paths);
    expect(batches.length).toBeGreaterThan(1);
  });
});
