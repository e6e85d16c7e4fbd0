import { fstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HAS_PROC_FD, LocalDirs } from '../../../../src-main/guests/localDirs.ts';

// The local guest's open folders: kept for reuse, at most 256, the least recently used
// closed first, so a walk over more folders than that neither runs out of descriptors nor
// loses its way back to a folder closed meanwhile.

/** This process's descriptors naming a folder under `root`. */
function openUnder(root: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${root}/`)) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** Waits until at most `n` descriptors under `root` are open (dropped ones close on the threadpool), then checks exactly `n` are. */
async function settlesAt(root: string, n: number): Promise<void> {
  for (let i = 0; i < 200 && openUnder(root) > n; i++) await new Promise((r) => setTimeout(r, 10));
  expect(openUnder(root)).toBe(n);
}

describe.skipIf(!HAS_PROC_FD)('LocalDirs', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'berth-dirs-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('keeps at most 256 folders open over a walk of 400, and opens the first again after it', async () => {
    const dirs = new LocalDirs(root);
    for (let i = 0; i < 400; i++) mkdirSync(join(root, `d${i}`));
    for (let i = 0; i < 400; i++) {
      const d = dirs.openNow([`d${i}`], `/d${i}`);
      expect(readlinkSync(d.ref)).toBe(join(root, `d${i}`));
      d.release();
    }
    expect(openUnder(root)).toBe(256);
    const again = dirs.openNow(['d0'], '/d0');
    expect(readlinkSync(again.ref)).toBe(join(root, 'd0'));
    again.release();
    dirs.closeAll();
    // closeAll closes on the threadpool
    await settlesAt(root, 0);
  });

  it('after rmdir, a folder kept under the removed one (moved away by others) is not taken for the new one of that name', () => {
    const dirs = new LocalDirs(root);
    mkdirSync(join(root, 'a/b'), { recursive: true });
    for (const parts of [['a'], ['a', 'b']]) dirs.openNow(parts, `/${parts.join('/')}`).release();
    // Another program moves a/b out; the guest removes a (empty now), and a new a/b is made.
    renameSync(join(root, 'a/b'), join(root, 'moved'));
    rmdirSync(join(root, 'a'));
    dirs.forget(['a']);
    mkdirSync(join(root, 'a/b'), { recursive: true });
    const d = dirs.openNow(['a', 'b'], '/a/b');
    expect(readlinkSync(d.ref)).toBe(join(root, 'a/b'));
    expect(fstatSync(d.fd).ino).toBe(statSync(join(root, 'a/b')).ino);
    d.release();
  });

  it('forgetTree (a rename) closes the folders kept under the name; forget (rmdir) only its own', async () => {
    const dirs = new LocalDirs(root);
    mkdirSync(join(root, 'a/b/c'), { recursive: true });
    mkdirSync(join(root, 'ab'));
    for (const parts of [['a'], ['a', 'b'], ['a', 'b', 'c'], ['ab']]) dirs.openNow(parts, `/${parts.join('/')}`).release();
    await settlesAt(root, 4);
    dirs.forget(['a', 'b']);
    await settlesAt(root, 3); // a/b/c still kept
    renameSync(join(root, 'a'), join(root, 'z'));
    dirs.forgetTree(['a']);
    await settlesAt(root, 1); // ab stays: not under a/
  });
});
