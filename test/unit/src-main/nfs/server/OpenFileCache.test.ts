import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalGuest } from '../../../../../src-main/guests/local.ts';
import { OpenFileCache } from '../../../../../src-main/nfs/server/OpenFileCache.ts';

// The NFS host's open files (one handle per file across WRITEs), against the real local
// guest: at most 128 open at once, the least recently used closed first, idle ones after 5 s.

const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('OpenFileCache', () => {
  let dir: string;
  let guest: LocalGuest;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-openfiles-'));
    guest = await LocalGuest.open({ kind: 'local', path: dir, readOnly: false });
  });
  afterAll(async () => {
    await guest.close?.();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => vi.useRealTimers());

  /** Creates `path` through the guest's synchronous face and hands its handle to the cache, as CREATE does. */
  const adopted = (files: OpenFileCache, path: string): string => {
    const h = guest.now!.create(path, 0o644, undefined);
    if (!h) throw new Error('the local guest did not create inline');
    files.adopt(path, h);
    return path;
  };
  /** adopted() of `/f<i>`. */
  const created = (files: OpenFileCache, i: number): string => adopted(files, `/f${i}`);

  it('keeps 128 files open, closing the least recently used, not the busy ones', async () => {
    const files = new OpenFileCache(guest, 1 << 20);
    // Counted after the first create: the guest's own descriptors (root folder, inotify) are open by then.
    const paths = [created(files, 0)];
    const before = openFds() - 1;
    for (let i = 1; i < 128; i++) paths.push(created(files, i));
    // f0 is written again (most recently used now); f1 is the oldest untouched one.
    expect(files.writerNow(paths[0]!)).toBeDefined();
    for (let i = 128; i < 160; i++) created(files, i);
    expect(files.writerNow(paths[0]!)).toBeDefined();
    for (let i = 1; i <= 32; i++) expect(files.writerNow(paths[i]!), `f${i}`).toBeUndefined();
    expect(files.writerNow(paths[33]!)).toBeDefined();
    expect(files.writerNow('/f159')).toBeDefined();
    // Closing runs on the threadpool: give it a moment, then count descriptors.
    await vi.waitFor(() => expect(openFds() - before).toBeLessThanOrEqual(128));
    await files.closeAll();
    await vi.waitFor(() => expect(openFds()).toBeLessThanOrEqual(before));
  });

  it('closes files idle for 5 s and keeps those written since', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'Date'] });
    const files = new OpenFileCache(guest, 1 << 20);
    const a = created(files, 200);
    const b = created(files, 201);
    vi.advanceTimersByTime(3_000);
    expect(files.writerNow(b)).toBeDefined();
    vi.advanceTimersByTime(3_000);
    expect(files.writerNow(a)).toBeUndefined();
    expect(files.writerNow(b)).toBeDefined();
    vi.advanceTimersByTime(6_000);
    expect(files.writerNow(b)).toBeUndefined();
    await files.closeAll();
  });

  it('invalidate() closes the one file named; invalidateTree() also what is under a folder of that name; neither a sibling sharing its first letters', async () => {
    const files = new OpenFileCache(guest, 1 << 20);
    guest.now!.mkdir('/d', 0o755, undefined);
    const paths = ['/d/x', '/dd', '/d2', '/e', '/ee'].map((p) => adopted(files, p));
    const open = (): boolean[] => paths.map((p) => files.writerNow(p) !== undefined);
    // A folder has no open file of its own: invalidate() of it closes nothing.
    files.invalidate('/d');
    expect(open()).toEqual([true, true, true, true, true]);
    files.invalidate('/e');
    expect(open()).toEqual([true, true, true, false, true]);
    files.invalidateTree('/d');
    expect(open()).toEqual([false, true, true, false, true]);
    await files.closeAll();
  });
});
