import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './measure.ts';

// A fresh ext4 file system with a journal, on a loop device, for benchmarks whose figures
// depend on the file system's state. ext4 without a journal (this machine's `/`) skips, on
// every create, each inode freed in the last one to six minutes (fs/ext4/ialloc.c,
// recently_deleted), reading its inode-table block: a create that takes ~35 µs on a quiet
// file system took 230–650 µs right after a few thousand removals. A workload that removes
// a tree before it makes one (the untar row) then measures what the run before it removed.
// A journal (ext4's default, what users' disks have) turns that check off. The image is on
// the disk, under /var/tmp: one in RAM (/dev/shm) was tried, and the loop device's copying
// then competed for the CPUs: on this 2-vCPU VM an NFS untar took 29–42 s (13.9 s of host
// CPU per run) against 19–37 s (9.2–11.3 s) in runs on a disk image.

/** A scratch directory; dispose() removes it (and the file system under it). */
export interface ScratchDir {
  dir: string;
  /** What the directory is on, for the table's notes. */
  what: string;
  dispose(): Promise<void>;
}

/**
 * A fresh journaled ext4 of `gib` GiB (sparse image under /var/tmp, loop-mounted), or,
 * when that cannot be had (not root, no mkfs.ext4, no loop device), a directory under the
 * system's temporary folder, with the reason in `what`.
 */
export async function scratchExt4(gib: number): Promise<ScratchDir> {
  const base = await mkdtemp(join('/var/tmp', 'berth-bench-fs-'));
  const image = join(base, 'fs.img');
  const mnt = join(base, 'mnt');
  let mounted = false;
  try {
    if (process.getuid?.() !== 0) throw new Error('not root');
    await mkdir(mnt);
    await run('truncate', ['-s', `${gib}G`, image]);
    await run('mkfs.ext4', ['-q', '-F', '-O', 'has_journal', image]);
    await run('mount', ['-o', 'loop', image, mnt]);
    mounted = true;
    return {
      dir: mnt,
      what: `a fresh ${gib} GiB ext4 with a journal (loop device)`,
      async dispose() {
        await umountRetrying(mnt);
        await rm(base, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (mounted) await umountRetrying(mnt).catch(() => {});
    await rm(base, { recursive: true, force: true });
    const dir = await mkdtemp(join(tmpdir(), 'berth-bench-'));
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      dir,
      what: `${tmpdir()} (no scratch ext4: ${why})`,
      async dispose() {
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/** Unmounts a scratch file system, waiting out a moment's EBUSY (a server's last close). */
async function umountRetrying(mnt: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await run('umount', [mnt]);
      return;
    } catch (err) {
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
