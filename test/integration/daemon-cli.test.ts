import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { berthSandbox, missingLauncher, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

// `berth` end to end as a user types it: the first `mount` starts a background daemon,
// `list`, `unmount`, `shutdown` talk to it. Local guests over real FUSE.

const skip = missingLauncher() ?? missingFuse();

describe.skipIf(skip)('berth CLI through the daemon', () => {
  let sb: BerthSandbox;
  const mps: string[] = [];
  beforeAll(async () => {
    sb = await berthSandbox();
  });
  afterAll(async () => {
    await sb.cleanup();
    expect(fuseMounts().filter((m) => m.startsWith(sb.base))).toEqual([]);
  });

  it('mount starts a background daemon and returns once mounted', async () => {
    const prepare = async (name: string) => {
      const src = await sb.dir(`src-${name}`);
      await writeFile(join(src, 'hello.txt'), `hi ${name}\n`);
      const mp = await sb.dir(`mnt-${name}`);
      mps.push(mp);
      return { name, src, mp };
    };
    const one = await prepare('one');
    const two = await prepare('two');
    const three = await prepare('three');
    const mount = async ({ name, src, mp }: { name: string; src: string; mp: string }) => {
      const r = await sb.run(['mount', 'fuse', 'local', '--path', src, '--label', name, mp]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`mounted local ${src} at ${mp} \\(m_`));
      // Returned only once mounted: the file is there right away.
      expect(await readFile(join(mp, 'hello.txt'), 'utf8')).toBe(`hi ${name}\n`);
    };
    // Two at once with no daemon running: both start one, one wins, both mounts land in it.
    await Promise.all([mount(one), mount(two)]);
    await mount(three);
    expect(await readFile(join(sb.base, 'state', 'berth', 'daemon.log'), 'utf8')).toMatch(/mounted m_/);
  });

  it('list --json shows every mount mounted; list shows a table', async () => {
    const r = await sb.run(['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const mounts = JSON.parse(r.stdout) as MountStatus[];
    const byName = mounts.map((m) => [m.spec.name, m.state, m.address]).sort((a, b) => mps.indexOf(a[2]!) - mps.indexOf(b[2]!));
    expect(byName).toEqual([
      ['one', 'mounted', mps[0]],
      ['two', 'mounted', mps[1]],
      ['three', 'mounted', mps[2]],
    ]);
    const t = await sb.run(['list']);
    expect(t.stdout.split('\n')[0]).toMatch(/^ID\s+STATE\s+HOST\s+GUEST\s+TARGET/);
    expect(t.stdout.match(/ mounted /g)).toHaveLength(3);
  });

  it('mount fails with the error and a hint, exit 1, and leaves nothing behind', async () => {
    const src = await sb.dir('src-bad');
    const mp = await sb.dir('mnt-not-empty');
    await writeFile(join(mp, 'occupied'), 'x');
    const r = await sb.run(['mount', 'fuse', 'local', '--path', src, mp]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not empty/);
    expect(r.stderr).toMatch(/hint: /);
    const inUse = await sb.run(['mount', 'fuse', 'local', '--path', src, mps[0]!]);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/already used by mount m_/);
    expect(JSON.parse((await sb.run(['list', '--json'])).stdout)).toHaveLength(3);
  });

  it('cid of a path in a guest without CIDs says so', async () => {
    const r = await sb.run(['cid', join(mps[0]!, 'hello.txt')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no CID/);
    const outside = await sb.run(['cid', '/etc/hostname']);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/not inside a mounted Berth FUSE mount/);
  });

  it('unmount by mount point, then --all, leaves /proc/self/mountinfo clean', async () => {
    const one = await sb.run(['unmount', mps[0]!]);
    expect(one.code, one.stderr).toBe(0);
    expect(fuseMounts()).not.toContain(mps[0]);
    const all = await sb.run(['unmount', '--all']);
    expect(all.code, all.stderr).toBe(0);
    expect(fuseMounts().filter((m) => m.startsWith(sb.base))).toEqual([]);
    const states = (JSON.parse((await sb.run(['list', '--json'])).stdout) as MountStatus[]).map((m) => m.state);
    expect(states).toEqual(['unmounted', 'unmounted', 'unmounted']);
    expect(all.stdout).toMatch(/stay in the mount table/);
    const forget = await sb.run(['unmount', '--forget', mps[2]!]);
    expect(forget.code, forget.stderr).toBe(0);
    expect(forget.stdout).toMatch(/^removed m_/);
    expect(JSON.parse((await sb.run(['list', '--json'])).stdout)).toHaveLength(2);
  });

  it('a failed mount over a saved mount point keeps the saved spec; a bad --root is a usage error', async () => {
    const saved = async (): Promise<MountStatus | undefined> =>
      (JSON.parse((await sb.run(['list', '--json'])).stdout) as MountStatus[]).find(
        (m) => m.spec.host.kind === 'fuse' && m.spec.host.mountpoint === mps[0],
      );
    const before = await saved();
    expect(before?.state).toBe('unmounted');
    const r = await sb.run(['mount', 'fuse', 'local', '--path', join(sb.base, 'no-such-folder'), mps[0]!]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no-such-folder/);
    const after = await saved();
    expect(after?.id).toBe(before?.id);
    expect(after?.spec).toEqual(before?.spec);
    expect(after?.state).toBe('unmounted');
    const bad = await sb.run(['mount', 'fuse', 'ipfs', '--root', '/ipfs/nope', mps[0]!]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected a CID/);
    expect((await saved())?.spec).toEqual(before?.spec);
    expect(fuseMounts()).not.toContain(mps[0]);
  });

  it('shutdown stops the background daemon; list then says none runs', async () => {
    const r = await sb.run(['shutdown']);
    expect(r.code, r.stderr).toBe(0);
    const l = await sb.run(['list']);
    expect(l.stdout).toMatch(/no Berth daemon is running/);
    expect((await sb.run(['list', '--json'])).stdout.trim()).toBe('[]');
    const u = await sb.run(['unmount', '--all']);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/no Berth daemon is running/);
  });
});
