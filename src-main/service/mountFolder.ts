import { mkdir, rmdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import type { Settings } from '../../src-shared/api.ts';
import type { MountSpec } from '../../src-shared/mountSpec.ts';
import { isFuseType, readMountInfo } from '../hosts/mountInfo.ts';

// Berth's own folder for mount points (settings.mountFolder, else ~/Berth). The app offers
// `<folder>/<name>` for every new mount, so a mount made with one click must not fail on
// "the mount point does not exist": Berth creates missing mount points inside this
// folder, and only there (a path typed elsewhere stays the person's business), and takes
// an empty one away again when the mount is removed.

/** The folder new FUSE mounts go under when the settings name none. */
export function defaultMountFolder(settings: Settings): string {
  return settings.mountFolder ?? join(homedir(), 'Berth');
}

/** The FUSE mount point of a spec when it lies inside the mount folder, else undefined. */
function managedMountPoint(spec: MountSpec, settings: Settings): string | undefined {
  if (spec.host.kind !== 'fuse') return undefined;
  const folder = resolve(defaultMountFolder(settings));
  const target = resolve(spec.host.mountpoint);
  return target.startsWith(folder + sep) ? target : undefined;
}

/**
 * Creates a missing mount point inside the mount folder (and the folder itself). Nothing
 * is created below a FUSE mount: that folder may be served by this very process, whose
 * threads would then wait on themselves; the mount then fails with the usual message.
 */
export async function prepareMountPoint(spec: MountSpec, settings: Settings): Promise<void> {
  const target = managedMountPoint(spec, settings);
  if (!target) return;
  const fuse = (await readMountInfo()).filter((m) => isFuseType(m.fstype));
  if (fuse.some((m) => target === m.mountpoint || target.startsWith(m.mountpoint === '/' ? '/' : `${m.mountpoint}/`))) return;
  await mkdir(target, { recursive: true, mode: 0o755 });
}

/** Takes away a removed mount's empty mount point inside the mount folder; anything else stays. */
export async function releaseMountPoint(spec: MountSpec, settings: Settings): Promise<void> {
  const target = managedMountPoint(spec, settings);
  if (!target || (await readMountInfo()).some((m) => m.mountpoint === target || m.mountpoint.startsWith(`${target}/`))) return;
  // rmdir refuses a folder that is not empty, which is what keeps the person's files safe.
  await rmdir(target).catch(() => undefined);
}
