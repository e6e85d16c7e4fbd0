import { describe, expect, it } from 'vitest';
import type { MountState, MountStatus } from '../../../../src-shared/mountState.ts';
import { Notifier, type Note } from '../../../../src-main/electron/notifications.ts';

// UI.md "Notifications": one note per failure streak, one summary per restore.

const NOW = Date.parse('2026-11-30T10:00:00Z');

function m(id: string, name: string, state: MountState, extra: Partial<MountStatus> = {}): MountStatus {
  return {
    id,
    state,
    since: new Date(NOW).toISOString(),
    spec: { id, name, autoMount: true, host: { kind: 'fuse', mountpoint: `/home/ana/Berth/${id}`, readOnly: true }, guest: { kind: 'local', path: '/srv' } } as MountStatus['spec'],
    ...extra,
  };
}

function notifier() {
  const notes: Note[] = [];
  return { notes, n: new Notifier((note) => notes.push(note), () => NOW) };
}

describe('Notifier', () => {
  it('tells a failure once per streak, with the retry time, and again after the mount recovered', () => {
    const { notes, n } = notifier();
    const failed = m('a', 'NAS share', 'failed', { error: { kind: 'Unavailable', message: 'connection refused' }, nextRetryAt: new Date(NOW + 30_000).toISOString() });
    n.onEvent({ type: 'mount', data: { mount: failed } });
    n.onEvent({ type: 'mount', data: { mount: m('a', 'NAS share', 'mounting') } });
    n.onEvent({ type: 'mount', data: { mount: failed } });
    expect(notes).toEqual([{ title: 'Berth', body: 'NAS share failed: connection refused. Retrying in 30 s.' }]);
    n.onEvent({ type: 'mount', data: { mount: m('a', 'NAS share', 'mounted') } });
    n.onEvent({ type: 'mount', data: { mount: m('a', 'NAS share', 'stale', { error: { kind: 'Closed', message: '/x was unmounted outside Berth' } }) } });
    expect(notes.at(-1)).toEqual({ title: 'Berth', body: 'NAS share stopped: /x was unmounted outside Berth.' });
    expect(notes).toHaveLength(2);
  });

  it('sums a restore up once: "Restored 5 mounts"', () => {
    const { notes, n } = notifier();
    const ids = ['a', 'b', 'c', 'd', 'e'];
    n.beginRestore(ids.map((id) => m(id, id.toUpperCase(), 'mounting')));
    for (const id of ids.slice(0, 4)) n.onEvent({ type: 'mount', data: { mount: m(id, id.toUpperCase(), 'mounted') } });
    expect(notes).toEqual([]);
    n.onEvent({ type: 'mount', data: { mount: m('e', 'E', 'mounted') } });
    expect(notes).toEqual([{ title: 'Berth', body: 'Restored 5 mounts' }]);
  });

  it('names what failed in the summary, and does not tell that failure again', () => {
    const { notes, n } = notifier();
    n.beginRestore([m('a', 'Site docs', 'mounted'), m('b', 'NAS share', 'mounting'), m('c', 'Pins', 'mounting'), m('d', 'Manual', 'unmounted', { spec: { ...m('d', 'Manual', 'unmounted').spec, autoMount: false } })]);
    n.onEvent({ type: 'mount', data: { mount: m('c', 'Pins', 'mounted') } });
    const failed = m('b', 'NAS share', 'failed', { error: { kind: 'Unavailable', message: 'connection refused' }, nextRetryAt: new Date(NOW + 1000).toISOString() });
    n.onEvent({ type: 'mount', data: { mount: failed } });
    expect(notes).toEqual([{ title: 'Berth', body: 'Restored 2 of 3 mounts — NAS share failed' }]);
    n.onEvent({ type: 'mount', data: { mount: failed } });
    expect(notes).toHaveLength(1);
  });

  it('leaves out a mount the user turned off or removed during the restore', () => {
    const { notes, n } = notifier();
    n.beginRestore([m('a', 'A', 'mounting'), m('b', 'B', 'mounting'), m('c', 'C', 'mounting')]);
    n.onEvent({ type: 'mount', data: { mount: m('a', 'A', 'unmounted') } });
    n.onEvent({ type: 'removed', data: { id: 'b' } });
    expect(notes).toEqual([]);
    n.onEvent({ type: 'mount', data: { mount: m('c', 'C', 'mounted') } });
    expect(notes).toEqual([{ title: 'Berth', body: 'Restored 1 mount' }]);
  });

  it('says nothing for a restore without auto-mounts; names busy mounts at quit', () => {
    const { notes, n } = notifier();
    n.beginRestore([]);
    n.busyOnQuit([]);
    expect(notes).toEqual([]);
    n.busyOnQuit(['Site docs', 'Pins']);
    expect(notes).toEqual([{ title: 'Berth is quitting', body: 'Waiting for open files in Site docs and Pins. They are detached in a few seconds.' }]);
  });
});
