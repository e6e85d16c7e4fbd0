import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { pbkdf2 } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FreeLater } from '../../../../src-main/guests/localFreeLater.ts';

// Removals whose inode is freed on the threadpool: the name is gone when the call returns,
// the removed node is held by a descriptor until its close runs off this thread, and where
// the file system is short of space nothing is held (the space is back before the reply).

/** This process's descriptors naming a removed node under `dir`. */
function heldUnder(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const to = readlinkSync(`/proc/self/fd/${fd}`);
      if (to.startsWith(dir) && to.endsWith(' (deleted)')) out.push(to);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** Keeps every threadpool thread busy for a while (FIFO: a close queued now waits behind these). */
function busyPool(): Promise<unknown> {
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const jobs = Array.from({ length: threads * 2 }, () => new Promise((r) => pbkdf2('k', 's', 200_000, 32, 'sha256', r)));
  return Promise.all(jobs);
}

async function settled(f: FreeLater): Promise<void> {
  for (let i = 0; i < 200 && f.waiting > 0; i++) await new Promise((r) => setTimeout(r, 5));
}

describe.skipIf(process.platform !== 'linux')('local guest: removals freed later', () => {
  let dir: string;
  let folder: { lexical: string; ref: string };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-freelater-'));
    folder = { lexical: dir, ref: dir };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('removes files, folders and renamed-over files at once and frees their inodes after the call', async () => {
    const f = new FreeLater(0);
    writeFileSync(join(dir, 'a.bin'), Buffer.alloc(64 * 1024, 1));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'old'), 'replaced');
    writeFileSync(join(dir, 'new'), 'kept');

    const busy = busyPool();
    f.remove(folder, 'a.bin', unlinkSync);
    f.remove(folder, 'sub', rmdirSync);
    f.remove(folder, 'old', (target) => renameSync(join(dir, 'new'), target));

    expect(existsSync(join(dir, 'a.bin'))).toBe(false);
    expect(existsSync(join(dir, 'sub'))).toBe(false);
    expect(readFileSync(join(dir, 'old'), 'utf8')).toBe('kept');
    expect(f.waiting).toBe(3);
    // Their inodes are still held here: the closes that free them wait for a threadpool thread.
    expect(heldUnder(dir).sort()).toEqual([`${dir}/a.bin (deleted)`, `${dir}/old (deleted)`, `${dir}/sub (deleted)`]);
    await busy;
    await settled(f);
    expect(f.waiting).toBe(0);
    expect(heldUnder(dir)).toEqual([]);
  });

  it('frees in place on a file system short of space, and holds nothing when the removal fails', () => {
    const short = new FreeLater(Number.MAX_SAFE_INTEGER);
    writeFileSync(join(dir, 'a.bin'), 'x');
    short.remove(folder, 'a.bin', unlinkSync);
    expect(existsSync(join(dir, 'a.bin'))).toBe(false);
    expect(short.waiting).toBe(0);
    expect(heldUnder(dir)).toEqual([]);

    const roomy = new FreeLater(0);
    mkdirSync(join(dir, 'full'));
    writeFileSync(join(dir, 'full', 'x'), 'x');
    expect(() => roomy.remove(folder, 'full', rmdirSync)).toThrow(/ENOTEMPTY/);
    expect(() => roomy.remove(folder, 'missing', unlinkSync)).toThrow(/ENOENT/);
    expect(existsSync(join(dir, 'full', 'x'))).toBe(true);
  });
});
