import { afterEach, describe, expect, it } from 'vitest';
import { openDialog, openMenu, select, showToast } from '../../../../src-renderer/store/actions.ts';
import { applyEvent } from '../../../../src-renderer/store/events.ts';
import { resetStore, useBerth } from '../../../../src-renderer/store/index.ts';
import { INFO, mount, SETTINGS } from '../fixtures.ts';

// What the window shows follows the service's events: a snapshot replaces everything, a
// change touches one row, and a removed mount takes its pane, menu and dialog with it.

const snapshot = (mounts = [mount('a'), mount('b'), mount('c')]) =>
  applyEvent({ type: 'snapshot', data: { mounts, settings: SETTINGS, notices: [], info: INFO } });

describe('store events', () => {
  afterEach(() => resetStore());

  it('a snapshot replaces the table, in the service\'s order', () => {
    snapshot();
    snapshot([mount('c'), mount('a')]);
    const s = useBerth.getState();
    expect(s.mountIds).toEqual(['c', 'a']);
    expect(Object.keys(s.mountsById).sort()).toEqual(['a', 'c']);
    expect(s.loaded).toBe(true);
  });

  it('a mount event changes only its row: the id list and the other rows keep their identity (no re-render)', () => {
    snapshot();
    const before = useBerth.getState();
    applyEvent({ type: 'mount', data: { mount: mount('b', { state: 'unmounting' }) } });
    const after = useBerth.getState();
    expect(after.mountsById.b?.state).toBe('unmounting');
    expect(after.mountIds).toBe(before.mountIds);
    expect(after.mountsById.a).toBe(before.mountsById.a);
    expect(after.mountsById.c).toBe(before.mountsById.c);
  });

  it('a new mount is added at the end', () => {
    snapshot();
    applyEvent({ type: 'mount', data: { mount: mount('d', { state: 'mounting' }) } });
    expect(useBerth.getState().mountIds).toEqual(['a', 'b', 'c', 'd']);
  });

  it('removing the selected mount closes its details, its menu and its edit dialog', () => {
    snapshot();
    select('b');
    openMenu({ id: 'b', path: '/', x: 1, y: 1 });
    openDialog({ kind: 'edit', id: 'b' });
    applyEvent({ type: 'removed', data: { id: 'b' } });
    const s = useBerth.getState();
    expect(s.mountIds).toEqual(['a', 'c']);
    expect(s.selectedId).toBeUndefined();
    expect(s.menu).toBeUndefined();
    expect(s.dialog).toBeUndefined();
  });

  it('removing another mount leaves the open pane alone', () => {
    snapshot();
    select('a');
    applyEvent({ type: 'removed', data: { id: 'b' } });
    expect(useBerth.getState().selectedId).toBe('a');
  });

  it('a snapshot after a reconnect drops a selection whose mount is gone', () => {
    snapshot();
    select('b');
    snapshot([mount('a')]);
    expect(useBerth.getState().selectedId).toBeUndefined();
  });

  it('notices come and go with their events', () => {
    snapshot();
    applyEvent({ type: 'notice', data: { notice: { id: 'n_1', time: INFO.startedAt, level: 'warning', message: 'mounts.json was damaged' } } });
    expect(useBerth.getState().notices.map((n) => n.message)).toEqual(['mounts.json was damaged']);
    applyEvent({ type: 'noticeDismissed', data: { id: 'n_1' } });
    expect(useBerth.getState().notices).toEqual([]);
  });

  it('"openAdd" from the tray or an ipfs:// link opens the add dialog prefilled', () => {
    applyEvent({ type: 'openAdd', data: { source: 'ipfs://bafy' } });
    expect(useBerth.getState().dialog).toEqual({ kind: 'add', source: 'ipfs://bafy' });
  });

  it('connection events drive the banner; a new mount folder in the settings moves the default', () => {
    applyEvent({ type: 'connection', data: { state: 'lost', message: 'gone', retryAt: '2026-11-30T10:00:05.000Z' } });
    expect(useBerth.getState().connection.state).toBe('lost');
    snapshot();
    applyEvent({ type: 'settings', data: { settings: { ...SETTINGS, mountFolder: '/srv/mounts' } } });
    expect(useBerth.getState().info?.defaultMountFolder).toBe('/srv/mounts');
  });
});

describe('toasts', () => {
  afterEach(() => resetStore());

  it('the same words twice show once', () => {
    showToast({ tone: 'info', title: 'Copied', text: 'bafy1' });
    showToast({ tone: 'info', title: 'Copied', text: 'bafy1' });
    showToast({ tone: 'info', title: 'Copied', text: 'bafy2' });
    expect(useBerth.getState().toasts.map((t) => t.text)).toEqual(['bafy1', 'bafy2']);
  });
});
