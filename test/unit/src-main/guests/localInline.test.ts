import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InlinePolicy } from '../../../../src-main/guests/localInline.ts';
import { addServedMount, removeServedMount } from '../../../../src-main/vfs/servedMounts.ts';

// When the local guest may block its thread: never at or below a mount this process serves
// (issue 3), whatever the mount table said at the last read.

const root = mkdtempSync(join(tmpdir(), 'berth-inline-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('InlinePolicy', () => {
  it('keeps off mounts this process serves, at once', async () => {
    const p = new InlinePolicy(root);
    await p.refresh();
    const base = p.inline(`${root}/a`);
    addServedMount(`${root}/m`);
    try {
      expect(p.inline(`${root}/m`)).toBe(false);
      expect(p.inline(`${root}/m/deeper/x`)).toBe(false);
      // A sibling whose name starts the same is not below it.
      expect(p.inline(`${root}/mx`)).toBe(base);
    } finally {
      removeServedMount(`${root}/m`);
    }
    expect(p.inline(`${root}/m/deeper/x`)).toBe(base);
  });

  it('keeps off everything when the folder itself lies in a served mount', async () => {
    const p = new InlinePolicy(`${root}/inside`);
    await p.refresh();
    addServedMount(root);
    try {
      expect(p.inline(`${root}/inside/x`)).toBe(false);
    } finally {
      removeServedMount(root);
    }
  });

  it('is off where the mount table cannot be read or the file system is not a local disk', async () => {
    // /proc is procfs: never a local disk.
    const p = new InlinePolicy('/proc/self');
    await p.refresh();
    expect(p.inline('/proc/self/status')).toBe(false);
  });
});
