import { randomBytes } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import type { MountSpec } from '../../src-shared/mountSpec.ts';

const ID_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** A new mount id: "m_" and 12 base58 characters (safe in paths and URLs). */
export function newMountId(): string {
  const bytes = randomBytes(12);
  let s = 'm_';
  for (const b of bytes) s += ID_ALPHABET[b % ID_ALPHABET.length];
  return s;
}

/** What two mounts may not share: a normalized mount point, or an NFS listen address with a fixed port. */
export function claimOf(spec: MountSpec): string | undefined {
  if (spec.host.kind === 'fuse') return `fuse:${resolvePath(spec.host.mountpoint)}`;
  // Port 0 asks the OS for a free port, so two of those never collide.
  if (/\/tcp\/0$/.test(spec.host.listen)) return undefined;
  return `nfs:${spec.host.listen}`;
}
