import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IN, Inotify } from '../../../../src-main/sys/inotify.ts';

// One drain reports every event queued before it, also when they do not fit in one read
// (the attribute cache's freshness rests on it: guests/localAttrCache.ts), and a drain with
// nothing queued reports nothing.

describe.skipIf(process.platform !== 'linux')('Inotify.drain', () => {
  let dir: string;
  let ino: Inotify;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-inotify-'));
    ino = Inotify.open()!;
    expect(ino).toBeDefined();
  });
  afterEach(() => {
    ino.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads every queued event in one drain, past what one read holds, and nothing after', () => {
    const wd = ino.add(dir, IN.CREATE);
    expect(typeof wd).toBe('number');
    // 200-byte names: each event takes 224 bytes (the name padded), so 1,000 of them take four 64 KiB reads.
    const names = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, '0')}-${'x'.repeat(195)}`);
    for (const n of names) writeFileSync(join(dir, n), '');
    const seen: string[] = [];
    const n = ino.drain((w, mask, name) => {
      if (w === wd && mask & IN.CREATE && name) seen.push(name);
    });
    expect(n).toBe(1000);
    expect(seen).toEqual(names);
    expect(ino.drain(() => {})).toBe(0);
    writeFileSync(join(dir, 'one more'), '');
    expect(ino.drain(() => {})).toBe(1);
  });
});
