import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalGuest } from '../../../src-main/guests/local.ts';
import type { Attr, CallOpts, DirEntry, FileHandle, StatFs, Vfs } from '../../../src-main/vfs/types.ts';
import { withTimeouts } from '../../../src-main/vfs/withTimeouts.ts';

/** A broken guest: every call hangs forever and ignores its signal. Records the signals it got. */
class HungGuest implements Vfs {
  readonly name = 'hung';
  readonly readOnly = true;
  signals: AbortSignal[] = [];
  private never<T>(opts: CallOpts): Promise<T> {
    this.signals.push(opts.signal);
    return new Promise<T>(() => {});
  }
  getattr(_p: string, o: CallOpts): Promise<Attr> { return this.never(o); }
  async *readdir(_p: string, o: CallOpts): AsyncIterable<DirEntry> {
    yield { name: 'first', attr: { type: 'file', mode: 0o444, size: 0, nlink: 1, uid: 0, gid: 0, ino: 2, mtime: 0, atime: 0, ctime: 0 } };
    await this.never(o);
  }
  open(_p: string, _f: object, o: CallOpts): Promise<FileHandle> { return this.never(o); }
  readlink(_p: string, o: CallOpts): Promise<string> { return this.never(o); }
  statfs(o: CallOpts): Promise<StatFs> { return this.never(o); }
  getxattr(_p: string, _n: string, o: CallOpts): Promise<Uint8Array | undefined> { return this.never(o); }
  listxattr(_p: string, o: CallOpts): Promise<string[]> { return this.never(o); }
  async close(): Promise<void> {}
}

const forever = { signal: new AbortController().signal };

describe('withTimeouts', () => {
  let dir: string;
  let local: Vfs;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-to-'));
    writeFileSync(join(dir, 'a'), 'abc');
    local = withTimeouts(await LocalGuest.open({ kind: 'local', path: dir, readOnly: false }), 5_000);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes results and errors of a working guest through', async () => {
    expect((await local.getattr('/a', forever)).size).toBe(3);
    const h = await local.open('/a', {}, forever);
    expect(Buffer.from(await h.read(1, 10, forever)).toString()).toBe('bc');
    await h.close();
    await expect(local.getattr('/missing', forever)).rejects.toMatchObject({ kind: 'NotExist' });
    const names: string[] = [];
    for await (const e of local.readdir('/', forever)) names.push(e.name);
    expect(names).toEqual(['a']);
    expect(typeof local.mkdir).toBe('function');
  });

  it('fails a hung call with Timeout at the deadline and aborts its signal', async () => {
    // The deadline's clock (performance.now) and timer are faked: exact steps, no load bets.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const hung = new HungGuest();
      const v = withTimeouts(hung, 100);
      let outcome: unknown;
      const p = v.getattr('/x', forever).then(
        () => 'resolved',
        (err: unknown) => err,
      );
      void p.then((o) => (outcome = o));
      await vi.advanceTimersByTimeAsync(99);
      expect(outcome).toBeUndefined();
      expect(hung.signals[0]?.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(outcome).toMatchObject({ kind: 'Timeout' });
      expect(hung.signals[0]?.aborted).toBe(true);
      const open = expect(v.open('/x', {}, forever)).rejects.toMatchObject({ kind: 'Timeout' });
      const statfs = expect(v.statfs(forever)).rejects.toMatchObject({ kind: 'Timeout' });
      await vi.advanceTimersByTimeAsync(100);
      await open;
      await statfs;
      expect(v.mkdir).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('bounds each step of a listing', async () => {
    const v = withTimeouts(new HungGuest(), 100);
    const got: string[] = [];
    const err = await (async () => {
      for await (const e of v.readdir('/', forever)) got.push(e.name);
    })().catch((e: unknown) => e);
    expect(got).toEqual(['first']);
    expect(err).toMatchObject({ kind: 'Timeout' });
  });

  it('gives up at once when the caller aborts', async () => {
    const v = withTimeouts(new HungGuest(), 60_000);
    const ac = new AbortController();
    const p = v.readlink('/x', { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ kind: 'Timeout' });
  });
});

describe('withTimeouts on one long-lived signal (issue 9)', () => {
  it('calls one after another on one signal add no listener after the first (issue 11: no add/remove per call)', async () => {
    const { EventEmitter } = await import('node:events');
    const v = withTimeouts({ ...new HungGuest(), getattr: async () => ({ type: 'file', mode: 0o644, size: 1, nlink: 1, uid: 0, gid: 0, ino: 2, mtime: 0, atime: 0, ctime: 0 }) } as unknown as Vfs, 60_000);
    const ac = new AbortController();
    for (let i = 0; i < 50; i++) await v.getattr(`/f${i}`, { signal: ac.signal });
    expect(EventEmitter.getEventListeners(ac.signal, 'abort').length).toBe(1);
  });

  it('keeps one abort listener however many calls are in flight, and none after', async () => {
    const { EventEmitter } = await import('node:events');
    const getEventListeners = EventEmitter.getEventListeners.bind(EventEmitter);
    const hung = new HungGuest();
    const v = withTimeouts(hung, 60_000);
    const ac = new AbortController();
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const calls = Array.from({ length: 40 }, (_, i) => v.getattr(`/f${i}`, { signal: ac.signal }));
      for (const c of calls) c.catch(() => {});
      expect(getEventListeners(ac.signal, 'abort').length).toBe(1);
      ac.abort(new Error('mount gone'));
      const kinds = await Promise.all(calls.map((c) => c.then(() => 'ok', (e: { kind?: string }) => e.kind)));
      expect(new Set(kinds)).toEqual(new Set(['IO']));
      expect(getEventListeners(ac.signal, 'abort').length).toBe(0);
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
