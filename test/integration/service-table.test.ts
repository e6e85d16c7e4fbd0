import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MountInput } from '../../src-shared/mountSpec.ts';
import { MountStore } from '../../src-main/service/MountStore.ts';
import { MountTable, type TableEvent } from '../../src-main/service/MountTable.ts';
import { openMount } from '../../src-main/service/openMount.ts';
import { waitFor } from '../helpers/berthDaemon.ts';

// The MountTable in-process with its real opener: local guests served by the NFS host on
// loopback (no FUSE needed), so every state change and event can be watched closely.

describe('MountTable state machine and events', () => {
  let dir: string;
  let table: MountTable;
  let events: TableEvent[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-table-'));
    table = new MountTable({ store: new MountStore(join(dir, 'config')), opener: openMount, log: () => undefined, retryBaseMs: 200, retryMaxMs: 1000 });
    events = [];
    table.subscribe((ev) => events.push(ev));
    await table.start();
  });
  afterEach(async () => {
    await table.shutdown('immediate');
    await rm(dir, { recursive: true, force: true });
  });

  const states = () => events.filter((e) => e.type === 'mount').map((e) => (e.type === 'mount' ? e.data.mount.state : ''));

  async function nfsLocal(name: string, autoMount = true): Promise<MountInput> {
    const src = join(dir, name);
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'f.txt'), name);
    return { name, autoMount, host: { kind: 'nfs', listen: '/ip4/127.0.0.1/tcp/0' }, guest: { kind: 'local', path: src } };
  }

  it('emits one event per state change, in order, and saves every change', async () => {
    const m = await table.add(await nfsLocal('a'));
    expect(m.state).toBe('mounted');
    expect(m.address).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/[1-9]\d*$/);
    expect(m.info?.url).toMatch(/^nfs:\/\//);
    await table.unmount(m.id, 'short');
    expect(states()).toEqual(['unmounted', 'mounting', 'mounted', 'unmounting', 'unmounted']);
    await table.remove(m.id);
    expect(events.at(-1)).toEqual({ type: 'removed', data: { id: m.id } });
    const file = JSON.parse(await readFile(join(dir, 'config', 'mounts.json'), 'utf8')) as { mounts: unknown[] };
    expect(file.mounts).toEqual([]);
  });

  it('retries a failed auto-mount with growing delays, and stops retrying once unmounted by hand', async () => {
    const spec = await nfsLocal('later');
    const missing = { ...spec, guest: { kind: 'local' as const, path: join(dir, 'not-yet') } };
    const m = await table.add(missing);
    expect(m.state).toBe('failed');
    expect(m.error?.kind).toBe('NotExist');
    const delay = (s: { nextRetryAt?: string; since: string }) => Date.parse(s.nextRetryAt!) - Date.parse(s.since);
    expect(delay(m)).toBeGreaterThanOrEqual(150);
    expect(delay(m)).toBeLessThanOrEqual(250);
    const third = await waitFor(() => {
      const s = table.get(m.id);
      return (s.attempts ?? 0) >= 3 && s.state === 'failed' ? s : undefined;
    }, 30_000, 'a third attempt');
    expect(delay(third)).toBeGreaterThanOrEqual(700);
    await mkdir(join(dir, 'not-yet'));
    await waitFor(() => table.get(m.id).state === 'mounted', 30_000, 'mounted once the folder exists');
    expect(table.get(m.id).attempts).toBeUndefined();

    // A failing mount the user unmounted stays unmounted. A witness that fails after it
    // has its first retry due later than the cancelled one was (same delay, started
    // later; Node runs timers in deadline order), so once the witness has retried, the
    // cancelled retry would have run.
    const other = await table.add({ ...spec, name: 'never', guest: { kind: 'local', path: join(dir, 'never') } });
    expect(other.state).toBe('failed');
    expect((await table.unmount(other.id)).state).toBe('unmounted');
    const mark = events.length;
    const witness = await table.add({ ...spec, name: 'witness', guest: { kind: 'local', path: join(dir, 'never-either') } });
    await waitFor(() => ((table.get(witness.id).attempts ?? 0) >= 2 ? true : undefined), 30_000, 'a retry of the witness');
    expect(table.get(other.id).state).toBe('unmounted');
    expect(events.slice(mark).filter((e) => e.type === 'mount' && e.data.mount.id === other.id)).toEqual([]);
  });

  it('a mount that is not an auto-mount fails once and waits for the user', async () => {
    const spec = await nfsLocal('manual', false);
    const m = await table.add({ ...spec, guest: { kind: 'local', path: join(dir, 'nope') } });
    expect(m.state).toBe('failed');
    expect(m.nextRetryAt).toBeUndefined();
  });

  it('refuses invalid specs and unknown ids with the right kinds', async () => {
    await expect(table.add({ host: { kind: 'fuse', mountpoint: 'relative' }, guest: { kind: 'local', path: '/x' } } as MountInput)).rejects.toMatchObject({ kind: 'Usage' });
    await expect(table.mount('m_nope')).rejects.toMatchObject({ kind: 'NotFound' });
    await expect(table.updateSettings({ gateway: 'not a url' })).rejects.toMatchObject({ kind: 'Usage' });
    expect((await table.updateSettings({ subdomainLinks: true })).subdomainLinks).toBe(true);
    expect(events.at(-1)?.type).toBe('settings');
    // null puts an optional setting back to its default (the settings dialog's "discover").
    expect((await table.updateSettings({ ipfsNode: '/ip4/127.0.0.1/tcp/5002', mountFolder: '/srv/berth' })).ipfsNode).toBe('/ip4/127.0.0.1/tcp/5002');
    const back = await table.updateSettings({ ipfsNode: null, mountFolder: null });
    expect(back).not.toHaveProperty('ipfsNode');
    expect(back).not.toHaveProperty('mountFolder');
    expect(back.subdomainLinks).toBe(true);
  });

  it('shutdown unmounts everything and refuses new work', async () => {
    const a = await table.add(await nfsLocal('s1'));
    const b = await table.add(await nfsLocal('s2'));
    await table.shutdown('short');
    expect(table.get(a.id).state).toBe('unmounted');
    expect(table.get(b.id).state).toBe('unmounted');
    await expect(table.add(await nfsLocal('s3'))).rejects.toMatchObject({ kind: 'Unavailable' });
    // Both specs are still saved for the next start.
    const file = JSON.parse(await readFile(join(dir, 'config', 'mounts.json'), 'utf8')) as { mounts: { name: string }[] };
    expect(file.mounts.map((x) => x.name)).toEqual(['s1', 's2']);
  });
});
