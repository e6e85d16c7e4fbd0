import { mkdtempSync, openSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeLater, closesPending } from '../../../../src-main/guests/localCloseLater.ts';
import { heldUnder } from '../../../helpers/heldFds.ts';

// Descriptors of removed files closed off this thread in batches: each is closed once, its
// callback comes after its close, and until then the removed file's inode is still held
// (its space not yet back).

describe.skipIf(process.platform !== 'linux')('local guest: descriptors closed later, in batches', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-closelater-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('frees every removed file a moment after, each callback after its own close', async () => {
    // More than one batch's worth, so a full batch and a timed one both run.
    const n = 150;
    const fds: number[] = [];
    for (let i = 0; i < n; i++) {
      const path = join(dir, `f${i}`);
      writeFileSync(path, Buffer.alloc(4096, i));
      fds.push(openSync(path, 'r'));
      unlinkSync(path);
    }
    const stillOpenAtCallback: number[] = [];
    let called = 0;
    const all = new Promise<void>((resolve) => {
      for (const fd of fds) {
        closeLater(fd, () => {
          // Its close came first: no descriptor of this process names that file any more.
          if (heldUnder(dir).some((p) => p === `${dir}/f${fds.indexOf(fd)} (deleted)`)) stillOpenAtCallback.push(fd);
          if (++called === n) resolve();
        });
      }
    });
    // Not closed on this thread within the call: the last batch waits for its moment.
    expect(heldUnder(dir).length).toBeGreaterThan(0);
    expect(closesPending()).toBeGreaterThan(0);
    await all;
    expect(stillOpenAtCallback).toEqual([]);
    expect(heldUnder(dir)).toEqual([]);
    expect(closesPending()).toBe(0);
  });
});
