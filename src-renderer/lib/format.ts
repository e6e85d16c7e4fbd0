import type { NodeStatus } from '../../src-shared/api.ts';
import type { GuestSpec } from '../../src-shared/mountSpec.ts';
import { mountTarget } from '../../src-shared/mountSpec.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { shortCid } from '../../src-shared/sourceInput.ts';

// Words the window shows for a mount: its name, its source, where it is, its state.
// Words first, colour second (UI.md "States"): every state has a text of its own.

/** The name a mount goes by: its own, else the last part of its target. */
export function mountName(m: MountStatus): string {
  if (m.spec.name && m.spec.name.trim() !== '') return m.spec.name;
  const target = mountTarget(m.spec.host);
  return target.split('/').filter(Boolean).at(-1) ?? m.id;
}

/** "/ip4/10.0.0.2/tcp/2049" → "10.0.0.2:2049"; other multiaddrs unchanged. */
export function hostPort(multiaddr: string): string {
  const m = /^\/(ip4|ip6|dns|dns4|dns6)\/([^/]+)\/tcp\/(\d+)/.exec(multiaddr);
  if (!m) return multiaddr;
  return m[1] === 'ip6' ? `[${m[2]}]:${m[3]}` : `${m[2]}:${m[3]}`;
}

/** A content path with its CID shortened: "/ipfs/bafy…qg7i/docs". */
function shortPath(path: string): string {
  const parts = path.split('/');
  if (parts.length >= 3 && (parts[1] === 'ipfs' || parts[1] === 'ipns')) parts[2] = parts[2]!.length > 24 ? shortCid(parts[2]!) : parts[2]!;
  return parts.slice(2).join('/');
}

/** The source column: the guest's kind and what it reads ("ipfs", "bafy…qg7i/docs"). */
export function sourceParts(g: GuestSpec, home?: string): { kind: string; detail: string; full: string } {
  switch (g.kind) {
    case 'ipfs':
      return g.root ? { kind: 'ipfs', detail: shortPath(g.root), full: g.root } : { kind: 'ipfs', detail: 'all of /ipfs', full: '/ipfs' };
    case 'ipns': {
      const full = g.name ? (g.name.startsWith('/ipns/') ? g.name : `/ipns/${g.name}`) : '/ipns';
      return { kind: 'ipns', detail: g.name ? shortPath(full) : 'all of /ipns', full };
    }
    case 'pinfs':
      return { kind: 'pinfs', detail: 'pinned content', full: 'the IPFS node’s pins' };
    case 'keyfs':
      return { kind: 'keyfs', detail: 'IPNS keys', full: 'the IPFS node’s keys' };
    case 'mfs':
      return { kind: 'mfs', detail: g.path, full: `MFS ${g.path}` };
    case 'nfs':
      return { kind: 'nfs', detail: `${hostPort(g.server)}:${g.export}`, full: `${g.server} export ${g.export}` };
    case 'local':
      return { kind: 'local', detail: tildePath(g.path, home), full: g.path };
    default: {
      const never: never = g;
      return { kind: String((never as { kind: unknown }).kind), detail: '', full: '' };
    }
  }
}

/** A path with the home folder written as "~", the way people read their own paths. */
export function tildePath(path: string, home: string | undefined): string {
  if (!home || home === '/') return path;
  return path === home ? '~' : path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

/**
 * The home folder, when the page can know it: the service's default mount folder is
 * ~/Berth unless the settings name another one.
 */
export function homeOf(defaultMountFolder: string | undefined, mountFolderSetting: string | undefined): string | undefined {
  if (!defaultMountFolder || mountFolderSetting !== undefined || !defaultMountFolder.endsWith('/Berth')) return undefined;
  return defaultMountFolder.slice(0, -'/Berth'.length) || undefined;
}

/** Where the mount is: its mount point, or for an NFS server the address it listens on. */
export function whereText(m: MountStatus, home?: string): string {
  if (m.spec.host.kind === 'fuse') return tildePath(m.spec.host.mountpoint, home);
  return `NFS ${hostPort(m.address ?? m.spec.host.listen)}`;
}

/** The state chip's colour token (a class), never used without its words. */
export type Tone = 'ok' | 'busy' | 'bad' | 'warn' | 'off';

/** Whole seconds from now until `iso` (0 when past). */
export function secondsUntil(iso: string, now: number): number {
  return Math.max(0, Math.ceil((Date.parse(iso) - now) / 1000));
}

/** The state chip: words and a colour token (UI.md "States"). */
export function stateChip(m: MountStatus, now: number): { text: string; tone: Tone } {
  switch (m.state) {
    case 'mounted':
      return m.health?.node === 'unreachable' ? { text: 'mounted · node unreachable', tone: 'warn' } : { text: 'mounted', tone: 'ok' };
    case 'mounting':
      return { text: 'mounting…', tone: 'busy' };
    case 'unmounting':
      return { text: 'unmounting…', tone: 'busy' };
    case 'failed':
      return { text: m.nextRetryAt ? `failed · retry in ${secondsUntil(m.nextRetryAt, now)} s` : 'failed', tone: 'bad' };
    case 'stale':
      return { text: 'stale — cleaning up', tone: 'warn' };
    case 'unmounted':
      return { text: 'unmounted', tone: 'off' };
    default: {
      const never: never = m.state;
      return { text: String(never), tone: 'off' };
    }
  }
}

/** The problem to show under a row, if any: a failure, a stale mount, or a node out of reach. */
export function rowProblem(m: MountStatus): { message: string; hint?: string; action?: 'retry' | 'mount' } | undefined {
  if (m.state === 'failed' && m.error) return { message: m.error.message, ...(m.error.hint ? { hint: m.error.hint } : {}), action: 'retry' };
  if (m.state === 'failed') return { message: 'the last attempt failed', action: 'retry' };
  if (m.state === 'stale' && m.error) return { message: m.error.message, ...(m.error.hint ? { hint: m.error.hint } : {}), action: 'mount' };
  if (m.state === 'mounted' && m.health?.node === 'unreachable') {
    const e = m.health.error;
    return { message: e?.message ?? `cannot reach ${m.health.address ? hostPort(m.health.address) : 'its node'}; reads fail until it answers`, ...(e?.hint ? { hint: e.hint } : {}) };
  }
  return undefined;
}

/** "12.3 KiB": sizes in binary units, the way file managers on Linux show them. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** The header's node line: "IPFS: js-ipfs/0.18.1 at 127.0.0.1:5001" or "IPFS: not reachable at …" (why, in `detail`). */
export function nodeLine(node: NodeStatus | undefined): { text: string; tone: Tone; detail?: string } {
  if (!node) return { text: 'IPFS: checking…', tone: 'busy' };
  if (node.address === 'embedded') {
    const offline = node.agent?.includes('offline') ? ' (offline)' : '';
    return { text: `IPFS: Berth’s own node${offline}`, tone: node.reachable ? 'ok' : 'bad', ...(node.agent ? { detail: node.agent } : {}) };
  }
  const where = hostPort(node.address);
  if (node.reachable) return { text: `IPFS: ${node.agent ?? 'node'} at ${where}`, tone: 'ok' };
  const why = node.error ? `${node.error.message}${node.error.hint ? ` — ${node.error.hint}` : ''}` : undefined;
  return { text: `IPFS: not reachable at ${where}`, tone: 'bad', ...(why ? { detail: why } : {}) };
}
