import { basename } from 'node:path';
import type { MountStatus } from '../../src-shared/mountState.ts';

// How the desktop shell names a mount and its state in the tray and in notifications.
// Words first (UI.md "States"): the tray has no colour, only these words.

/** A mount's display name: its name, else the last part of its mount point, else its id. */
export function mountLabel(m: MountStatus): string {
  if (m.spec.name) return m.spec.name;
  if (m.spec.host.kind === 'fuse') return basename(m.spec.host.mountpoint) || m.spec.host.mountpoint;
  return m.id;
}

/** The state in words, as the tray shows it ("mounted", "failed (retrying)", …). */
export function stateWords(m: MountStatus): string {
  switch (m.state) {
    case 'mounted':
      return m.health?.node === 'unreachable' ? 'mounted · node unreachable' : 'mounted';
    case 'mounting':
      return 'mounting…';
    case 'unmounting':
      return 'unmounting…';
    case 'failed':
      return m.nextRetryAt ? 'failed (retrying)' : 'failed';
    case 'stale':
      return 'stale';
    case 'unmounted':
      return 'unmounted';
    default: {
      const never: never = m.state;
      return String(never);
    }
  }
}

/** "Site docs, Pins and 2 more": a short list of names for one line of text. */
export function nameList(names: readonly string[], max = 3): string {
  if (names.length <= max) {
    return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  }
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
