import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('../helpers/electron.ts'));

import type { ConnectionState, Snapshot } from '../../src-shared/bridge.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { berthSandbox, waitFor, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { clipboard, Notification } from '../helpers/electron.ts';
import { startApp, useSandboxEnv, type AppUnderTest } from '../helpers/electronApp.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

// DESIGN.md "Faces": when a headless `berth daemon` already serves the user, the app
// attaches to it instead of starting a second service; when that daemon goes away the
// app says so and takes over, restoring the auto-mounts itself. Real daemon process, real
// FUSE, the real main process against the electron double.

const skip = missingFuse();

describe.skipIf(skip)('the app attached to a headless daemon', () => {
  let sb: BerthSandbox;
  let restoreEnv: () => void;
  let a: AppUnderTest | undefined;

  beforeEach(async () => {
    sb = await berthSandbox();
    restoreEnv = useSandboxEnv(sb);
  });
  afterEach(async () => {
    await a?.stop();
    a = undefined;
    restoreEnv();
    await sb.cleanup();
  });

  it('attaches, forwards the daemon events, and takes over (restoring the mounts) when the daemon is killed', async () => {
    const daemon = await sb.startDaemon();
    const src = await sb.dir('src');
    await writeFile(join(src, 'a.txt'), 'served\n');
    const mp = await sb.dir('mnt');
    const added = await sb.client.add({ name: 'Shared', host: { kind: 'fuse', mountpoint: mp }, guest: { kind: 'local', path: src } });
    expect(added.state).toBe('mounted');

    a = await startApp(sb);
    expect(a.running.service.mode()).toBe('attached');
    const snap = await a.ipc<Snapshot>('snapshot');
    expect(snap).toMatchObject({ ok: true, value: { info: { servedBy: 'daemon', pid: daemon.pid }, mounts: [{ id: added.id, state: 'mounted' }] } });
    await waitFor(() => a!.menu().some((i) => i.id === `mount:${added.id}` && i.label === 'Shared — mounted'), 10_000, 'the daemon mount in the tray');

    // The daemon's events reach the window and the tray; the window's calls reach the daemon.
    const unmounted = await sb.run(['unmount', mp]);
    expect(unmounted.code, unmounted.stderr).toBe(0);
    await waitFor(() => a!.sentEvents().some((e) => e.type === 'mount' && (e.data as { mount: MountStatus }).mount.state === 'unmounted'), 10_000, 'the unmount event in the window');
    await waitFor(() => a!.menu().some((i) => i.label === 'Shared — unmounted'), 10_000, 'unmounted in the tray');
    expect(await a.ipc('mount', { id: added.id })).toMatchObject({ ok: true, value: { state: 'mounted' } });
    expect(fuseMounts()).toContain(mp);
    expect((await sb.client.info()).pid).toBe(daemon.pid);
    // The daemon cannot write the desktop clipboard; the attached app does it for its window.
    expect(await a.ipc('writeClipboard', { text: 'bafy-copied' })).toEqual({ ok: true });
    expect(clipboard.text).toBe('bafy-copied');

    // The daemon dies: the window is told, the app takes over and restores the auto-mount.
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    await waitFor(() => a!.sentEvents().some((e) => e.type === 'connection' && (e.data as ConnectionState).state === 'lost'), 10_000, 'the lost connection event');
    await waitFor(() => a!.running.service.mode() === 'host', 20_000, 'the app hosting the service');
    await waitFor(() => a!.running.service.mounts().find((m) => m.id === added.id)?.state === 'mounted', 20_000, 'the mount restored by the app');
    const events = a.sentEvents();
    const lostAt = events.findIndex((e) => e.type === 'connection' && (e.data as ConnectionState).state === 'lost');
    const after = events.slice(lostAt + 1);
    // Back: the connection is open again and a fresh snapshot (now from the app) replaces the page's state.
    expect(after.some((e) => e.type === 'connection' && (e.data as ConnectionState).state === 'open')).toBe(true);
    expect(after.find((e) => e.type === 'snapshot')?.data).toMatchObject({ info: { servedBy: 'app', pid: process.pid } });
    expect(await sb.client.info()).toMatchObject({ servedBy: 'app', pid: process.pid });
    expect(fuseMounts().filter((p) => p === mp)).toHaveLength(1);
    await waitFor(() => Notification.shown.some((n) => n.body === 'Restored 1 mount'), 10_000, 'the restore summary');
    const listed = await sb.run(['list', '--json']);
    expect((JSON.parse(listed.stdout) as MountStatus[]).map((m) => [m.id, m.state])).toEqual([[added.id, 'mounted']]);
  });

  it('quitting an attached app leaves the daemon and its mounts alone', async () => {
    const daemon = await sb.startDaemon();
    const src = await sb.dir('src');
    const mp = await sb.dir('mnt');
    await sb.client.add({ name: 'Kept', host: { kind: 'fuse', mountpoint: mp }, guest: { kind: 'local', path: src } });
    a = await startApp(sb);
    expect(a.running.service.mode()).toBe('attached');
    await a.running.quit();
    expect(fuseMounts()).toContain(mp);
    expect((await sb.client.info()).pid).toBe(daemon.pid);
    expect((await sb.client.list()).map((m) => m.state)).toEqual(['mounted']);
  });
});
