import { closeSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackingFiles } from '../../../../../src-main/hosts/fuse3/BackingFiles.ts';
import { FOPEN } from '../../../../../src-main/hosts/fuse3/wire.ts';
import type { FileHandle } from '../../../../../src-main/vfs/types.ts';

// The kernel's passthrough rules, as BackingFiles keeps them: a wrong answer fails the
// caller's open() with EIO (one backing file per node, shared by its opens; none while the
// node has opens served here), and a file replaced under an open node answers ESTALE.

let dir: string;
const fds: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-backing-'));
});

afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

/** An open handle of `name` (with a descriptor unless `noFd`), and whether it was closed. */
function handle(name: string, noFd = false): FileHandle & { closed: boolean } {
  const fd = openSync(join(dir, name), 'r');
  fds.push(fd);
  const h = { closed: false, close: async () => void (h.closed = true), now: noFd ? {} : { fd: () => fd } };
  return h as unknown as FileHandle & { closed: boolean };
}

/** A registry that hands out ids 1, 2, … and records what it closed. */
function registry() {
  let next = 1;
  const r = { opened: [] as number[], closed: [] as number[], open: (fd: number) => (r.opened.push(fd), next++), close: (id: number) => void r.closed.push(id) };
  return r;
}

describe('FUSE passthrough bookkeeping', () => {
  it('gives every open of a node the one backing file, and drops it at the last release', () => {
    writeFileSync(join(dir, 'f'), 'x');
    const reg = registry();
    const b = new BackingFiles(reg);
    let fh = 10;
    const one = b.open(handle('f'), 2, () => fh++);
    const two = b.open(handle('f'), 2, () => fh++);
    expect(one).toEqual({ fh: 10, flags: FOPEN.PASSTHROUGH, backingId: 1 });
    expect(two).toEqual({ fh: 11, flags: FOPEN.PASSTHROUGH, backingId: 1 });
    expect(reg.opened.length).toBe(1);
    b.released(2, 10);
    expect(reg.closed).toEqual([]);
    b.released(2, 11);
    expect(reg.closed).toEqual([1]);
    // A new first open registers anew.
    expect(b.open(handle('f'), 2, () => fh++)?.backingId).toBe(2);
  });

  it('serves a node here while it has opens served here, then passes it through again', () => {
    writeFileSync(join(dir, 'f'), 'x');
    const b = new BackingFiles(registry());
    // No descriptor to register: served here.
    expect(b.open(handle('f', true), 3, () => 20)).toEqual({ fh: 20 });
    expect(b.open(handle('f'), 3, () => 21)).toEqual({ fh: 21 });
    b.released(3, 20);
    b.released(3, 21);
    expect(b.open(handle('f'), 3, () => 22)?.flags).toBe(FOPEN.PASSTHROUGH);
  });

  it('answers a file replaced under a node open passed through as stale, closing it', () => {
    writeFileSync(join(dir, 'f'), 'old');
    const b = new BackingFiles(registry());
    const first = b.open(handle('f'), 4, () => 30);
    expect(first?.backingId).toBe(1);
    writeFileSync(join(dir, 'f.new'), 'new');
    renameSync(join(dir, 'f.new'), join(dir, 'f'));
    const h = handle('f');
    let kept = false;
    expect(b.open(h, 4, () => ((kept = true), 31))).toBeUndefined();
    expect([h.closed, kept]).toEqual([true, false]);
  });

  it('serves every open where the mount asked for no passthrough', () => {
    writeFileSync(join(dir, 'f'), 'x');
    expect(new BackingFiles(undefined).open(handle('f'), 2, () => 7)).toEqual({ fh: 7 });
  });
});
