import * as fsp from 'node:fs/promises';
import { servedMounts } from '../vfs/servedMounts.ts';

// Whether the local guest may make a system call on a path synchronously, on the JavaScript
// thread. On a local disk an lstat or a create takes microseconds, while the same call
// through libuv's threadpool costs two thread hand-offs that, on a busy machine, cost
// milliseconds (measured: 60% of a FUSE untar was the server idle, waiting on them; see
// docs/architecture.md "The FUSE host"). But a blocking call on a FUSE mount served by this
// process would wait for this very thread (issue 3), and one on a network file system or a
// hung FUSE mount would stall every mount of the process. So a path is inline only when
// the file system it lies on is a known local-disk one and no mount of another kind (nor
// any mount this process serves) sits at or above it inside the guest.

/** Local-disk file systems (mountinfo's fstype): a call on them never waits on a process. */
const LOCAL_TYPES = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'tmpfs', 'f2fs', 'zfs', 'bcachefs', 'jfs', 'reiserfs', 'overlay', 'ramfs', 'vfat', 'exfat', 'ntfs3', 'hfsplus']);
/** How often the mount table is re-read while the guest is used (ms). */
const REFRESH_MS = 1_000;

interface MountLine {
  mountpoint: string;
  fstype: string;
}

/** Decodes the octal escapes (\040 for a space) of mountinfo paths. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

async function readMounts(): Promise<MountLine[] | undefined> {
  let text: string;
  try {
    text = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  const out: MountLine[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 5) continue;
    out.push({ mountpoint: unescape(f[4]!), fstype: f[dash + 1] ?? '' });
  }
  return out;
}

/** The inline policy of one guest root (owned by its LocalGuest). */
export class InlinePolicy {
  /** Whether the root itself lies on a local disk (false until the first read, and off Linux). */
  private rootLocal = false;
  /** Mount points inside the root that are not local disks: nothing at or below them is inline. */
  private foreign: string[] = [];
  private readAt = 0;
  /** The mounts at or below the root when last read, one per line. */
  private inside = '';
  /**
   * Bumped when the mounts at or below the root changed (a file system mounted inside the
   * folder): what a path names changed with no inotify event, so the attribute cache drops all.
   */
  epoch = 0;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly root: string,
    /** False: never inline (tests use it to run the threadpool and worker paths on a local disk). */
    private readonly allowed = true,
  ) {}

  /** Reads the mount table now (the guest calls it once when opened). */
  async refresh(): Promise<void> {
    this.reading ??= (async () => {
      try {
        const mounts = await readMounts();
        this.readAt = Date.now();
        if (!mounts) return;
        // The mount holding the root: the longest mount point that is the root or above it.
        let holder: MountLine | undefined;
        for (const m of mounts) {
          const above = m.mountpoint === '/' || this.root === m.mountpoint || this.root.startsWith(`${m.mountpoint}/`);
          if (above && (!holder || m.mountpoint.length >= holder.mountpoint.length)) holder = m;
        }
        this.rootLocal = holder !== undefined && LOCAL_TYPES.has(holder.fstype);
        const inside = mounts
          .filter((m) => m.mountpoint === this.root || m.mountpoint.startsWith(`${this.root}/`))
          .map((m) => `${m.mountpoint} ${m.fstype}`)
          .join('\n');
        if (inside !== this.inside) {
          this.inside = inside;
          this.epoch++;
        }
        this.foreign = mounts.filter((m) => !LOCAL_TYPES.has(m.fstype) && m.mountpoint.startsWith(`${this.root}/`)).map((m) => m.mountpoint);
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  /** Whether a blocking call on the host path `p` (the root or below it) is safe now. */
  inline(p: string): boolean {
    if (Date.now() - this.readAt > REFRESH_MS) void this.refresh();
    if (!this.allowed || !this.rootLocal) return false;
    for (const m of this.foreign) if (p === m || p.startsWith(`${m}/`)) return false;
    for (const m of servedMounts()) if (p === m || p.startsWith(`${m}/`) || m === this.root || this.root.startsWith(`${m}/`)) return false;
    return true;
  }
}
