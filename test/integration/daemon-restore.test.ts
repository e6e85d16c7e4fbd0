import { execFileSync } from 'node:child_process';
import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MountInput } from '../../src-shared/mountSpec.ts';
import { checkStoreText } from '../../src-main/service/MountStore.ts';
import { berthSandbox, missingLauncher, waitFor, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

// The daemon as a user lives with it: restarts after a crash, mounts that die
// underneath, a damaged mounts.json. Real daemon processes, real FUSE, local guests.

const skip = missingLauncher() ?? missingFuse();

describe.skipIf(skip)('daemon restore and health', () => {
  let sb: BerthSandbox;
  /** The working folder of a command helper a test killed, if any. */
  let helperDir: string | undefined;
  beforeEach(async () => {
    sb = await berthSandbox();
  });
  afterEach(async () => {
    await sb.cleanup();
    if (helperDir) await rm(helperDir, { recursive: true, force: true });
    helperDir = undefined;
    expect(fuseMounts().filter((m) => m.startsWith(sb.base))).toEqual([]);
  });

  /** A local folder with one file, and a FUSE mount point for it. */
  async function localSpec(name: string): Promise<MountInput> {
    const src = await sb.dir(`src-${name}`);
    await writeFile(join(src, 'hello.txt'), `hello from ${name}\n`);
    return { name, host: { kind: 'fuse', mountpoint: await sb.dir(`mnt-${name}`) }, guest: { kind: 'local', path: src } };
  }

  it('after kill -9 of the daemon, its command helper detaches its mounts and a new daemon restores them', async () => {
    const first = await sb.startDaemon();
    const specs = await Promise.all(['a', 'b', 'c'].map(localSpec));
    for (const s of specs) expect((await sb.client.add(s)).state).toBe('mounted');
    first.child.kill('SIGKILL');
    await first.exited;
    const mp = (s: MountInput) => (s.host as { mountpoint: string }).mountpoint;
    await waitFor(() => fuseMounts().filter((m) => m.startsWith(sb.base)).length === 0, 30_000, 'the helper to detach the dead daemon\'s mounts');
    await sb.startDaemon();
    await waitFor(async () => {
      const ms = await sb.client.list();
      return ms.length === 3 && ms.every((m) => m.state === 'mounted') ? ms : undefined;
    }, 20_000, 'three mounts restored');
    for (const s of specs) expect(await readFile(join(mp(s), 'hello.txt'), 'utf8')).toBe(`hello from ${s.name}\n`);
    expect((await sb.run(['unmount', '--all'])).code).toBe(0);
  });

  it('after kill -9 of the daemon and its command helper, a new daemon cleans the dead mount points and restores every auto-mount', async () => {
    const first = await sb.startDaemon();
    const specs = await Promise.all(['a', 'b', 'c'].map(localSpec));
    for (const s of specs) expect((await sb.client.add(s)).state).toBe('mounted');
    // The helper first (a child of the daemon running /bin/sh), so nothing detaches the mounts.
    const helper = Number(execFileSync('pgrep', ['-P', String(first.pid), '-f', 'berth-run'], { encoding: 'utf8' }).trim().split('\n')[0]);
    expect(helper).toBeGreaterThan(0);
    // Its working folder (its last argument), which a killed helper cannot remove: this test does.
    helperDir = (await readFile(`/proc/${helper}/cmdline`, 'utf8')).split('\0').filter(Boolean).at(-1);
    expect(helperDir).toMatch(/berth-run-/);
    process.kill(helper, 'SIGKILL');
    first.child.kill('SIGKILL');
    await first.exited;
    // The kernel keeps the mounts; their FUSE process is gone.
    const mp = (s: MountInput) => (s.host as { mountpoint: string }).mountpoint;
    await waitFor(() => fuseMounts().filter((m) => m.startsWith(sb.base)).length === 3, 10_000, 'the dead mounts');
    expect(fuseMounts()).toEqual(expect.arrayContaining(specs.map(mp)));
    expect(() => execFileSync('ls', [mp(specs[0]!)], { stdio: 'pipe' })).toThrow(/not connected/);

    const stored = checkStoreText(await readFile(join(sb.configDir, 'mounts.json'), 'utf8'));
    expect(stored.ok && stored.data.mounts.map((m) => m.name)).toEqual(['a', 'b', 'c']);

    await sb.startDaemon();
    const mounts = await waitFor(async () => {
      const ms = await sb.client.list();
      return ms.length === 3 && ms.every((m) => m.state === 'mounted') ? ms : undefined;
    }, 20_000, 'three mounts restored');
    for (const s of specs) expect(await readFile(join(mp(s), 'hello.txt'), 'utf8')).toBe(`hello from ${s.name}\n`);
    expect(mounts.map((m) => m.spec.name)).toEqual(['a', 'b', 'c']);
    // Each mount point is mounted once: the dead mount was removed, not stacked upon.
    for (const s of specs) expect(fuseMounts().filter((m) => m === mp(s))).toHaveLength(1);
    const notices = await sb.client.notices();
    expect(notices.map((n) => n.message).join('\n')).toMatch(/cleaned a dead mount left at/);

    const r = await sb.run(['unmount', '--all']);
    expect(r.code, r.stderr).toBe(0);
    expect(fuseMounts().filter((m) => m.startsWith(sb.base))).toEqual([]);
  });

  it('notices an external fusermount -u and marks the mount stale', async () => {
    await sb.startDaemon();
    const s = await localSpec('ext');
    const m = await sb.client.add(s);
    expect(m.state).toBe('mounted');
    execFileSync('fusermount', ['-u', (s.host as { mountpoint: string }).mountpoint]);
    const after = await waitFor(async () => {
      const now = await sb.client.get(m.id);
      return now.state === 'stale' ? now : undefined;
    }, 30_000, 'the mount to show stale');
    expect(after.error?.message).toMatch(/unmounted outside Berth/);
    // It can be mounted again by hand.
    expect((await sb.client.mount(m.id)).state).toBe('mounted');
  });

  for (const [what, damage] of [
    ['truncated', (f: string) => truncate(f, 10)],
    ['garbage', (f: string) => writeFile(f, 'PK\u0003\u0004 definitely not json')],
    ['wrong-version', (f: string) => writeFile(f, JSON.stringify({ version: 7, mounts: [] }))],
  ] as const) {
    it(`moves a ${what} mounts.json aside, restores the last good copy and tells the user`, async () => {
      const d = await sb.startDaemon();
      const specs = await Promise.all(['x', 'y'].map(localSpec));
      for (const s of specs) await sb.client.add({ ...s, autoMount: false }, { mount: false });
      d.child.kill('SIGTERM');
      await d.exited;
      const file = join(sb.configDir, 'mounts.json');
      await damage(file);

      await sb.startDaemon();
      expect((await sb.client.list()).map((m) => m.spec.name)).toEqual(['x', 'y']);
      const notices = await sb.client.notices();
      expect(notices).toHaveLength(1);
      expect(notices[0]!.level).toBe('warning');
      expect(notices[0]!.message).toMatch(/could not be used .*moved to .*mounts\.json\.corrupt-.*last good copy \(2 mounts\) was restored/);
      const aside = (await readdir(sb.configDir)).filter((n) => n.startsWith('mounts.json.corrupt-'));
      expect(aside).toHaveLength(1);
      // Nothing lost: the damaged bytes are kept, the table is whole again on disk.
      const restored = checkStoreText(await readFile(file, 'utf8'));
      expect(restored.ok && restored.data.mounts).toHaveLength(2);
      if (what === 'truncated') {
        // A CLI user sees it too.
        const l = await sb.run(['list']);
        expect(l.stderr).toMatch(/^warning: .*mounts\.json could not be used/m);
      }
    });
  }

  it('berth shutdown unmounts everything and stops the daemon', async () => {
    const d = await sb.startDaemon();
    const s = await localSpec('sd');
    expect((await sb.client.add(s)).state).toBe('mounted');
    const r = await sb.run(['shutdown', '--level', 'short']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/stopped/);
    expect(await d.exited).toBe(0);
    expect(fuseMounts().filter((m) => m.startsWith(sb.base))).toEqual([]);
  });
});
