import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalGuest } from '../../src-main/guests/local.ts';
import type { PathsKind } from '../../src-main/guests/localPaths.ts';

// Issue 8 part 6: the local guest never reaches outside its root, even while another
// process keeps swapping one of its folders for a symlink to a folder outside (rename(2),
// so every call sees either the folder or the symlink). Calls of every kind run against
// the swapped path until both sides of the race have been seen; whatever they answer,
// nothing outside is read, listed, created, changed or removed.

const o = () => ({ signal: AbortSignal.timeout(10_000) });

/** The swapper: race <-> race.link by renames, forever (killed by the test). */
const SWAPPER = `
const fs = require('node:fs');
const [root] = process.argv.slice(1);
const a = root + '/race', real = root + '/race.real', link = root + '/race.link';
process.stdout.write('go\\n');
for (;;) {
  fs.renameSync(a, real);
  fs.renameSync(link, a);
  fs.renameSync(a, link);
  fs.renameSync(real, a);
}`;

const KINDS: Array<[PathsKind, boolean]> = [['proc', true], ['proc', false], ['openat', true], ['openat', false]];
const bases: string[] = [];
afterAll(() => {
  for (const b of bases) rmSync(b, { recursive: true, force: true });
});

/** A fresh base (removed after the file) holding the guest's root, with the folder `inside` in it, and a folder outside the root. */
function rootAndOutside(prefix: string, inside: string): { base: string; root: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), prefix));
  bases.push(base);
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(join(root, inside), { recursive: true });
  mkdirSync(outside);
  return { base, root, outside };
}

describe.each(KINDS)('local guest containment under a folder/symlink swap (%s, inline %s)', (kind, inline) => {
  it('never reads, lists or changes anything outside', async () => {
    const { root, outside } = rootAndOutside('berth-race-', 'race');
    writeFileSync(join(root, 'race', 'f'), 'inside');
    writeFileSync(join(outside, 'f'), 'OUTSIDE');
    writeFileSync(join(outside, 'only-outside'), 'OUTSIDE');
    chmodSync(join(outside, 'f'), 0o644);
    symlinkSync(outside, join(root, 'race.link'));
    const before = { names: readdirSync(outside).sort(), mode: statSync(join(outside, 'f')).mode, mtime: statSync(join(outside, 'f')).mtimeMs };

    const g = await LocalGuest.open({ kind: 'local', path: root, readOnly: false }, { paths: kind, inline });
    expect(g.pathsKind).toBe(kind);
    const child = spawn(process.execPath, ['-e', SWAPPER, root], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`swapper exited (${code}) before starting`)));
      });
      let ok = 0;
      let refused = 0;
      const leaks: string[] = [];
      const tally = async (what: string, p: Promise<unknown>, leaked: (v: unknown) => boolean = () => false): Promise<void> => {
        try {
          const v = await p;
          if (leaked(v)) leaks.push(what);
          ok++;
        } catch {
          refused++;
        }
      };
      // Until both sides of the race were met, and at least a few hundred rounds.
      for (let i = 0; (i < 300 || ok < 20 || refused < 20) && i < 50_000; i++) {
        await tally('getattr', g.getattr('/race/only-outside', o()), () => true);
        await tally('readdir', (async () => {
          const names: string[] = [];
          for await (const e of g.readdir('/race', o())) names.push(e.name);
          return names;
        })(), (v) => (v as string[]).includes('only-outside'));
        await tally('read', (async () => {
          const fh = await g.open('/race/f', {}, o());
          try {
            return Buffer.from(await fh.read(0, 100, o())).toString();
          } finally {
            await fh.close();
          }
        })(), (v) => v !== 'inside');
        await tally('create', (async () => (await g.create(`/race/new-${i}`, 0o644, o())).close())());
        await tally('mkdir', g.mkdir(`/race/dir-${i}`, 0o755, o()));
        await tally('setattr', g.setattr('/race/f', { mode: 0o600 | (i & 1 ? 0o060 : 0), mtime: 1_000_000 }, o()));
        await tally('symlink', g.symlink('x', `/race/ln-${i}`, o()));
        await tally('rename', g.rename(`/race/ln-${i}`, `/race/ln2-${i}`, o()));
        await tally('unlink', g.unlink('/race/only-outside', o()), () => true);
      }
      expect(leaks).toEqual([]);
      // Both sides of the race were seen (otherwise the test proved nothing).
      expect(ok).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    } finally {
      child.kill('SIGKILL');
      await exited;
      await g.close();
    }
    // Nothing outside was created, changed or removed.
    expect(readdirSync(outside).sort()).toEqual(before.names);
    expect(readFileSync(join(outside, 'f'), 'utf8')).toBe('OUTSIDE');
    expect(statSync(join(outside, 'f')).mode).toBe(before.mode);
    expect(statSync(join(outside, 'f')).mtimeMs).toBe(before.mtime);
    // And the folder itself got them (put back in place first if the swapper stopped mid-swap).
    if (existsSync(join(root, 'race.real'))) {
      if (lstatSync(join(root, 'race'), { throwIfNoEntry: false })?.isSymbolicLink()) renameSync(join(root, 'race'), join(root, 'race.link'));
      renameSync(join(root, 'race.real'), join(root, 'race'));
    }
    expect(readdirSync(join(root, 'race')).some((n) => n.startsWith('new-'))).toBe(true);
  });
});

describe('local guest: a kept folder, once its inotify watch vouches for it (proc, inline)', () => {
  it('is given up the moment it is renamed away or moved out of the root, for the folder or symlink put in its place', async () => {
    const { base, root, outside } = rootAndOutside('berth-vouch-', 'a');
    writeFileSync(join(root, 'a', 'f'), 'old');
    writeFileSync(join(outside, 'f'), 'OUTSIDE, longer');
    const g = await LocalGuest.open({ kind: 'local', path: root, readOnly: false }, { paths: 'proc', inline: true, attrCache: true });
    try {
      const now = g.now!;
      // The first call opens /a and watches it; the next ones find it vouched for by that watch.
      for (let i = 0; i < 3; i++) expect(now.getattr('/a/f')?.size).toBe(3);
      await now.create('/a/made-1', 0o644, undefined)?.close();
      expect(existsSync(join(root, 'a', 'made-1'))).toBe(true);

      // Renamed away, another folder in its place: the next calls are about the new one.
      renameSync(join(root, 'a'), join(root, 'a.old'));
      mkdirSync(join(root, 'a'));
      writeFileSync(join(root, 'a', 'f'), 'new, longer');
      expect(now.getattr('/a/f')?.size).toBe(11);
      await now.create('/a/made-2', 0o644, undefined)?.close();
      expect(existsSync(join(root, 'a', 'made-2'))).toBe(true);
      expect(existsSync(join(root, 'a.old', 'made-2'))).toBe(false);
      for (let i = 0; i < 3; i++) expect(now.getattr('/a/f')?.size).toBe(11);

      // Moved out of the root: the kept descriptor would now reach outside; it is not used.
      renameSync(join(root, 'a'), join(base, 'moved-out'));
      expect(() => now.getattr('/a/f')).toThrow();
      expect(() => now.create('/a/made-out', 0o644, undefined)).toThrow();
      expect(existsSync(join(base, 'moved-out', 'made-out'))).toBe(false);
      mkdirSync(join(root, 'a'));
      for (let i = 0; i < 3; i++) expect(now.getattr('/a')?.type).toBe('dir');
      await now.create('/a/made-in', 0o644, undefined)?.close();
      expect(existsSync(join(root, 'a', 'made-in'))).toBe(true);

      // Renamed away again, a symlink to a folder outside in its place: nothing reaches outside.
      renameSync(join(root, 'a'), join(root, 'a.new'));
      symlinkSync(outside, join(root, 'a'));
      expect(() => now.getattr('/a/f')).toThrow();
      expect(() => now.create('/a/made-3', 0o644, undefined)).toThrow();
      expect(existsSync(join(outside, 'made-3'))).toBe(false);
      expect(existsSync(join(root, 'a.new', 'made-3'))).toBe(false);
    } finally {
      await g.close();
    }
  });
});
