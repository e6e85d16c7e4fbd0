import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { readFile, readlink as readlinkP, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('../helpers/electron.ts'));

import type { MountStatus } from '../../src-shared/mountState.ts';
import { berthSandbox, waitFor, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { app, clipboard, electronDouble, Notification, preventable } from '../helpers/electron.ts';
import { startApp, useSandboxEnv, type AppUnderTest } from '../helpers/electronApp.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

// Issue 7 "Electron main", against the real main process (electron replaced by the test
// double) hosting the real service with real FUSE mounts of local folders: the tray
// mirrors the table after every event; `berth` drives the running app; quit unmounts
// everything (busy mounts named); a second instance focuses the window and opens the add
// dialog with its CID.

const execFileP = promisify(execFile);
const CID = 'bafybeihnqohtjaxafnn54bqe7bztaibdprkl6gzdcccv4t6ela2qosqg7i';
const skip = missingFuse();

/** The tray's words for a state, written out here as the oracle (UI.md "States"). */
function expectedLabel(m: MountStatus): string {
  const name = m.spec.name ?? m.id;
  const words = { mounted: 'mounted', mounting: 'mounting…', unmounting: 'unmounting…', unmounted: 'unmounted', stale: 'stale', failed: m.nextRetryAt ? 'failed (retrying)' : 'failed' }[m.state];
  return `${name}${m.state === 'failed' || m.state === 'stale' ? ' ⚠' : ''} — ${words}`;
}

describe.skipIf(skip)('the Electron main process with a real service and FUSE', () => {
  let sb: BerthSandbox;
  let restoreEnv: () => void;
  let a: AppUnderTest | undefined;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    sb = await berthSandbox();
    restoreEnv = useSandboxEnv(sb);
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    await a?.stop();
    a = undefined;
    restoreEnv();
    await sb.cleanup();
  });

  async function folder(dirName: string, text: string): Promise<string> {
    const dir = await sb.dir(dirName);
    await writeFile(join(dir, 'hello.txt'), text);
    return dir;
  }
  const fuseLocal = async (name: string) => ({
    name,
    host: { kind: 'fuse', mountpoint: await sb.dir(`mnt-${name.replace(/\W/g, '')}`) },
    guest: { kind: 'local', path: await folder(`src-${name.replace(/\W/g, '')}`, `hello from ${name}\n`) },
  });

  it('the tray mirrors the table after each event (mount, toggle from the tray, external unmount, failure, remove)', async () => {
    a = await startApp(sb);
    const { running } = a;
    const mismatches: string[] = [];
    const checks: Promise<void>[] = [];
    const states = new Set<string>();
    const icons = new Set<string>();
    const unsubscribe = running.service.subscribe((ev) => {
      if (ev.type !== 'mount' && ev.type !== 'removed' && ev.type !== 'snapshot') return;
      // The menu as it is right after this event, and the table at the same instant.
      const items = a!.menu().filter((i) => typeof i.id === 'string' && (i.id as string).startsWith('mount:'));
      icons.add(String((electronDouble.tray()?.image as { path: string }).path.split('/').pop()));
      checks.push(
        running.service.snapshot().then((snap) => {
          for (const m of snap.mounts) states.add(m.state);
          const got = items.map((i) => `${i.id}|${i.label}|${i.checked}`);
          const want = snap.mounts.map((m) => `mount:${m.id}|${expectedLabel(m)}|${m.state === 'mounted' || m.state === 'mounting' || (m.state === 'failed' && !!m.nextRetryAt)}`);
          if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`after ${ev.type}: tray ${JSON.stringify(got)} table ${JSON.stringify(want)}`);
        }, (err: unknown) => void mismatches.push(`after ${ev.type}: no snapshot: ${(err as Error).message}`)),
      );
    });

    const spec = await fuseLocal('Site docs');
    const added = await a.ipc<MountStatus>('addMount', { spec });
    expect(added).toMatchObject({ ok: true, value: { state: 'mounted' } });
    const id = (added as { value: MountStatus }).value.id;
    const mp = spec.host.mountpoint as string;
    expect(await readFile(join(mp, 'hello.txt'), 'utf8')).toBe('hello from Site docs\n');

    // Unmount from the tray's checkbox, then mount again from it.
    a.click(`mount:${id}`);
    await waitFor(() => running.service.mounts().find((m) => m.id === id)?.state === 'unmounted', 20_000, 'unmounted from the tray');
    expect(fuseMounts()).not.toContain(mp);
    a.click(`mount:${id}`);
    await waitFor(() => running.service.mounts().find((m) => m.id === id)?.state === 'mounted', 20_000, 'mounted from the tray');
    await waitFor(() => Notification.shown.some((n) => n.body === `Mounted Site docs at ${mp}`), 5000, 'the "Mounted" notification');

    // Unmounted outside Berth: the row goes stale; the user is told once.
    // Async: a sync child would block the loop that answers this very mount.
    await execFileP('fusermount', ['-u', mp]);
    await waitFor(() => running.service.mounts().find((m) => m.id === id)?.state === 'stale', 20_000, 'stale after fusermount -u');
    await waitFor(() => Notification.shown.some((n) => n.body.startsWith('Site docs stopped:')), 5000, 'the stale notification');

    // A failing auto-mount retries; one notification for the whole streak.
    const broken = { ...(await fuseLocal('NAS share')), guest: { kind: 'local', path: join(sb.base, 'not-there') } };
    const failed = await a.ipc<MountStatus>('addMount', { spec: broken });
    expect(failed).toMatchObject({ ok: true, value: { state: 'failed' } });
    const badId = (failed as { value: MountStatus }).value.id;
    await waitFor(() => (running.service.mounts().find((m) => m.id === badId)?.attempts ?? 0) >= 2, 20_000, 'a second failed attempt');
    expect(Notification.shown.filter((n) => n.body.startsWith('NAS share failed:'))).toHaveLength(1);
    expect(electronDouble.tray()!.tooltip).toBe('Berth — 2 failed');

    expect(await a.ipc('removeMount', { id: badId })).toEqual({ ok: true });
    expect(await a.ipc('removeMount', { id })).toEqual({ ok: true });
    unsubscribe();
    await Promise.all(checks);
    expect(mismatches).toEqual([]);
    expect(checks.length).toBeGreaterThan(8);
    for (const s of ['unmounted', 'mounting', 'mounted', 'unmounting', 'stale', 'failed']) expect(states, s).toContain(s);
    expect([...icons]).toEqual(expect.arrayContaining(['tray-ok-light.png', 'tray-busy-light.png', 'tray-attention-light.png']));
    expect(a.menu()[0]).toMatchObject({ id: 'summary', label: 'Berth — no mounts' });
  });

  it('"Mount CID from clipboard…" is enabled only for a CID or link and opens the add dialog prefilled', async () => {
    a = await startApp(sb);
    expect(await a.ipc('snapshot')).toMatchObject({ ok: true }); // the page is listening
    const item = () => a!.menu().find((i) => i.id === 'mountFromClipboard')!;
    expect(item().enabled).toBe(false);
    clipboard.text = `see ipfs://${CID}/docs please`;
    await waitFor(() => item().enabled === true, 10_000, 'the clipboard item enabled');
    a.click('mountFromClipboard');
    await waitFor(() => a!.sentEvents().some((e) => e.type === 'openAdd'), 5000, 'openAdd sent to the window');
    expect(a.sentEvents().filter((e) => e.type === 'openAdd')).toEqual([{ type: 'openAdd', data: { source: `/ipfs/${CID}/docs` } }]);
    clipboard.text = 'nothing to mount here';
    await waitFor(() => item().enabled === false, 10_000, 'the clipboard item disabled again');
  });

  it('"Launch at login" in the tray writes and removes the XDG autostart entry', async () => {
    a = await startApp(sb);
    const entry = join(sb.env.XDG_CONFIG_HOME!, 'autostart', 'berth.desktop');
    const toggle = () => a!.menu().find((i) => i.id === 'launchAtLogin')!;
    expect(toggle()).toMatchObject({ type: 'checkbox', checked: false });
    a.click('launchAtLogin');
    await waitFor(() => toggle().checked === true, 5000, 'the checkbox on');
    const text = await readFile(entry, 'utf8');
    expect(text).toMatch(/\nExec=\S+ \S+ --hidden\n/);
    expect(await a.ipc('getDesktopSettings')).toEqual({ ok: true, value: { launchAtLogin: true, protocolHandler: false } });
    a.click('launchAtLogin');
    await waitFor(() => toggle().checked === false, 5000, 'the checkbox off');
    expect(existsSync(entry)).toBe(false);
  });

  it('the berth CLI drives the running app over the usual socket', async () => {
    a = await startApp(sb);
    const src = await folder('cli-src', 'hello from the CLI\n');
    const mp = await sb.dir('mnt-cli');
    const mounted = await sb.run(['mount', 'fuse', 'local', '--path', src, mp]);
    expect(mounted.code, mounted.stderr).toBe(0);
    // The app's table has it (an event reached the tray), and the kernel mount is up.
    await waitFor(() => a!.menu().some((i) => typeof i.label === 'string' && i.label.endsWith('— mounted')), 10_000, 'the CLI mount in the tray');
    expect(fuseMounts()).toContain(mp);
    const listed = await sb.run(['list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as MountStatus[]).map((m) => m.state)).toEqual(['mounted']);
    const info = await sb.client.info();
    expect(info).toMatchObject({ servedBy: 'app', pid: process.pid });
    const unmounted = await sb.run(['unmount', mp]);
    expect(unmounted.code, unmounted.stderr).toBe(0);
    await waitFor(() => a!.menu().some((i) => typeof i.label === 'string' && i.label.endsWith('— unmounted')), 10_000, 'unmounted in the tray');
  });

  it('quit from the tray unmounts everything (the busy mount named, then detached) and exits', async () => {
    a = await startApp(sb);
    const idle = await a.ipc<MountStatus>('addMount', { spec: await fuseLocal('Idle') });
    const busy = await a.ipc<MountStatus>('addMount', { spec: await fuseLocal('Busy one') });
    expect([idle.ok, busy.ok]).toEqual([true, true]);
    const points = [idle, busy].map((r) => (r as { value: MountStatus }).value.address!);
    for (const p of points) expect(fuseMounts()).toContain(p);
    // A process working inside a mount keeps it busy: `fusermount -u` refuses. It enters the
    // folder after exec: spawn's own chdir would wait on this process's FUSE loop, which
    // is blocked inside spawn until the exec.
    const holder = spawn('sh', ['-c', 'cd "$1" && exec sleep 120', 'sh', points[1]!], { stdio: 'ignore' });
    children.push(holder);
    await waitFor(async () => (await readlinkP(`/proc/${holder.pid}/cwd`).catch(() => '')) === points[1], 5000, 'the holder inside the mount');

    a.click('quit');
    await waitFor(() => app.exitCode === 0, 60_000, 'the app exited');
    for (const p of points) expect(fuseMounts(), p).not.toContain(p);
    expect(Notification.shown).toContainEqual({ title: 'Berth is quitting', body: 'Waiting for open files in Busy one. It is detached in a few seconds.' });
    expect(existsSync(join(sb.base, 'run', 'berth', 'api.sock'))).toBe(false);
    // The table is kept: both come back at the next start.
    const saved = JSON.parse(await readFile(join(sb.configDir, 'mounts.json'), 'utf8')) as { mounts: { name: string; autoMount: boolean }[] };
    expect(saved.mounts.map((m) => [m.name, m.autoMount])).toEqual([
      ['Idle', true],
      ['Busy one', true],
    ]);
    // Closing the window had only hidden it; quitting let it close.
    expect(electronDouble.window()!.isDestroyed()).toBe(false);
  });

  it('a second instance focuses the window and opens the add dialog with its CID; a login start stays in the tray', async () => {
    a = await startApp(sb, ['/opt/Berth/berth-desktop', '--hidden']);
    expect(electronDouble.window()).toBeUndefined();
    app.emit('second-instance', {}, ['/opt/Berth/berth-desktop', '--enable-features=X', `ipfs://${CID}`], '/home/ana');
    const win = electronDouble.window()!;
    expect(win).toBeDefined();
    win.emit('ready-to-show');
    expect(win.isVisible()).toBe(true);
    expect(win.focusCount).toBe(1);
    expect(a.sentEvents()).toEqual([]); // the page is not listening yet
    expect(await a.ipc('snapshot')).toMatchObject({ ok: true, value: { mounts: [], info: { servedBy: 'app' } } });
    await waitFor(() => a!.sentEvents().length > 0, 5000, 'openAdd after the snapshot');
    expect(a.sentEvents()).toEqual([{ type: 'openAdd', data: { source: `/ipfs/${CID}` } }]);

    // Closed (hidden), then launched again without content: shown and focused, no dialog.
    win.close();
    expect(win.isVisible()).toBe(false);
    app.emit('second-instance', {}, ['/opt/Berth/berth-desktop'], '/home/ana');
    expect(win.isVisible()).toBe(true);
    expect(win.focusCount).toBe(2);
    expect(electronDouble.window()).toBe(win);
    await vi.waitFor(() => expect(a!.sentEvents().filter((e) => e.type === 'openAdd')).toHaveLength(1));
  });

  it('an ipfs:// link that started the app (macOS open-url before ready) opens the add dialog once it is up', async () => {
    let opened: { defaultPrevented: boolean } | undefined;
    a = await startApp(sb, ['/Applications/Berth.app/Contents/MacOS/Berth'], () => {
      opened = preventable();
      app.emit('open-url', opened, `ipns://k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8`);
    });
    expect(opened?.defaultPrevented).toBe(true);
    expect(electronDouble.window()).toBeDefined();
    expect(await a.ipc('snapshot')).toMatchObject({ ok: true });
    await waitFor(() => a!.sentEvents().length > 0, 5000, 'openAdd after the snapshot');
    expect(a.sentEvents()).toEqual([{ type: 'openAdd', data: { source: '/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8' } }]);
  });
});
