import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MountInput } from '../../src-shared/mountSpec.ts';
import { berthSandbox, missingLauncher, waitFor, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

// A mount's life in the service: retries with backoff until its guest shows up, edits of
// a mounted mount, and unmounting with busy files at each shutdown level.

const skip = missingLauncher() ?? missingFuse();

describe.skipIf(skip)('mount lifecycle in the daemon', () => {
  let sb: BerthSandbox;
  const holders: ChildProcess[] = [];
  beforeEach(async () => {
    sb = await berthSandbox();
  });
  afterEach(async () => {
    for (const h of holders.splice(0)) h.kill('SIGKILL');
    await sb.cleanup();
    expect(fuseMounts().filter((m) => m.startsWith(sb.base))).toEqual([]);
  });

  async function localSpec(name: string, autoMount = true): Promise<MountInput> {
    const src = await sb.dir(`src-${name}`);
    await writeFile(join(src, 'file.txt'), `${name}\n`);
    return { name, autoMount, host: { kind: 'fuse', mountpoint: await sb.dir(`mnt-${name}`) }, guest: { kind: 'local', path: src } };
  }

  /** Keeps a file inside a mount open from another process, like a shell or a player would. */
  function holdOpen(file: string): ChildProcess {
    const child = spawn('sh', ['-c', `exec 3<"$1"; echo ready; exec sleep 120`, 'sh', file], { stdio: ['ignore', 'pipe', 'ignore'] });
    holders.push(child);
    return child;
  }
  const ready = (c: ChildProcess) => new Promise((r) => c.stdout!.once('data', r));

  it('an auto-mount whose guest is missing at start shows failed with a retry time, then mounts by itself', async () => {
    const late = join(sb.base, 'arrives-later');
    const spec: MountInput = { name: 'late', host: { kind: 'fuse', mountpoint: await sb.dir('mnt-late') }, guest: { kind: 'local', path: late } };
    const first = await sb.startDaemon();
    const added = await sb.client.add(spec, { mount: false });
    first.child.kill('SIGTERM');
    await first.exited;

    await sb.startDaemon();
    const failed = await waitFor(async () => {
      const m = await sb.client.get(added.id);
      return m.state === 'failed' && (m.attempts ?? 0) >= 2 ? m : undefined;
    }, 10_000, 'two failed attempts');
    expect(failed.error?.message).toMatch(/arrives-later/);
    expect(failed.nextRetryAt).toBeDefined();
    // Backoff: the second retry waits about 2 s (1 s, 2 s, 4 s …).
    const wait = Date.parse(failed.nextRetryAt!) - Date.parse(failed.since);
    expect(wait).toBeGreaterThanOrEqual(1500);
    expect(wait).toBeLessThanOrEqual(2500);

    await mkdir(late);
    await writeFile(join(late, 'file.txt'), 'finally\n');
    const mounted = await waitFor(async () => {
      const m = await sb.client.get(added.id);
      return m.state === 'mounted' ? m : undefined;
    }, 10_000, 'the mount to come up without user action');
    expect(mounted.error).toBeUndefined();
    expect(await readFile(join(mounted.address!, 'file.txt'), 'utf8')).toBe('finally\n');
  });

  it('editing a mounted mount remounts it with the new spec', async () => {
    await sb.startDaemon();
    const spec = await localSpec('a');
    const m = await sb.client.add(spec);
    expect(m.state).toBe('mounted');
    const other = await localSpec('b', false);
    const mp = (spec.host as { mountpoint: string }).mountpoint;
    const updated = await sb.client.update(m.id, { ...spec, guest: other.guest, name: 'edited' });
    expect(updated.state).toBe('mounted');
    expect(updated.spec.name).toBe('edited');
    expect(await readFile(join(mp, 'file.txt'), 'utf8')).toBe('b\n');
    // A spec that clashes with another mount is refused and the mount stays as it was.
    const third = await sb.client.add(await localSpec('c', false), { mount: false });
    await expect(sb.client.update(third.id, { ...spec })).rejects.toMatchObject({ status: 409 });
    expect((await sb.client.get(m.id)).state).toBe('mounted');
  });

  it('unmount levels: patient waits for busy files, short forces after 10 s, immediate detaches at once', async () => {
    await sb.startDaemon();
    const specs = await Promise.all(['p', 's', 'i'].map((n) => localSpec(n)));
    const [p, s, i] = await Promise.all(specs.map((x) => sb.client.add(x)));
    const mp = (x: MountInput) => (x.host as { mountpoint: string }).mountpoint;

    const holdP = holdOpen(join(mp(specs[0]!), 'file.txt'));
    const holdS = holdOpen(join(mp(specs[1]!), 'file.txt'));
    const holdI = holdOpen(join(mp(specs[2]!), 'file.txt'));
    await Promise.all([ready(holdP), ready(holdS), ready(holdI)]);

    const immediate = await sb.client.unmount(i!.id, 'immediate');
    expect(immediate.state).toBe('unmounted');
    // Detached while its file is still open: only a lazy unmount can do that.
    expect(holdI.exitCode).toBeNull();
    expect(fuseMounts()).not.toContain(mp(specs[2]!));

    const patient = sb.client.unmount(p!.id, 'patient');
    const t1 = Date.now();
    const short = await sb.client.unmount(s!.id, 'short');
    expect(short.state).toBe('unmounted');
    expect(Date.now() - t1).toBeGreaterThanOrEqual(9000);
    expect(fuseMounts()).not.toContain(mp(specs[1]!));
    // Still waiting: its file is open.
    expect((await sb.client.get(p!.id)).state).toBe('unmounting');
    expect(fuseMounts()).toContain(mp(specs[0]!));
    holdP.kill('SIGKILL');
    expect((await patient).state).toBe('unmounted');
    expect(fuseMounts()).not.toContain(mp(specs[0]!));
  });

  it('serves an NFS host from the table: bound address reported, fixed ports claimed once', async () => {
    await sb.startDaemon();
    const src = await sb.dir('src-nfs');
    await writeFile(join(src, 'over-nfs.txt'), 'nfs!\n');
    const r = await sb.run(['mount', 'nfs', 'local', '--path', src, '/ip4/127.0.0.1/tcp/0']);
    expect(r.code, r.stderr).toBe(0);
    const m = (await sb.client.list())[0]!;
    expect(m.state).toBe('mounted');
    const port = Number(/^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)$/.exec(m.address ?? '')?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(r.stdout).toContain(`nfsport=${port}`);
    const ls = execFileSync('nfs-ls', [`nfs://127.0.0.1/?version=3&nfsport=${port}&mountport=${port}`], { encoding: 'utf8' });
    expect(ls).toMatch(/over-nfs\.txt/);
    const fixed = { host: { kind: 'nfs', listen: `/ip4/127.0.0.1/tcp/${port}` }, guest: { kind: 'local', path: src } } as const;
    await sb.client.add(fixed, { mount: false });
    await expect(sb.client.add(fixed, { mount: false })).rejects.toMatchObject({ status: 409 });
    expect((await sb.run(['unmount', m.id])).code).toBe(0);
  });

  it('a mount whose guest folder vanishes still unmounts cleanly on shutdown', async () => {
    const d = await sb.startDaemon();
    const spec = await localSpec('gone');
    await sb.client.add(spec);
    await rename((spec.guest as { path: string }).path, join(sb.base, 'moved-away'));
    const r = await sb.run(['shutdown', '--level', 'immediate']);
    expect(r.code, r.stderr).toBe(0);
    expect(await d.exited).toBe(0);
  });
});
