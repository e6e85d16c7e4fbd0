import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { fuse3Host } from '../../src-main/hosts/fuse3/fuse3Host.ts';
import { hasLibFuse3 } from '../../src-main/hosts/fuse3/libfuse3.ts';
import type { MountedHost } from '../../src-main/hosts/types.ts';
import { runCommand } from '../../src-main/sys/runCommand.ts';
import type { Vfs } from '../../src-main/vfs/types.ts';
import { wrapGuest } from '../../src-main/vfs/wrapGuest.ts';
import { missingFuse, missingPeer } from '../helpers/peers.ts';

// FUSE passthrough (Linux 6.9+, as root): a local folder's files opened through the mount
// are read and written by the kernel straight from the backing file, never through Berth.
// What a user notices: I/O on an open file goes on while Berth's thread is busy (here: held
// by a blocking call for seconds), and every way of opening, sharing and changing a file
// still shows the same bytes and sizes as the backing folder.

/** Linux `major.minor` at least 6.9. */
const kernelHasPassthrough = (): boolean => {
  const [maj, min] = release().split('.').map(Number);
  return maj! > 6 || (maj === 6 && min! >= 9);
};

const skip = missingFuse()
  ?? missingPeer('libfuse 3', hasLibFuse3, 'apt-get install fuse3')
  ?? missingPeer('FUSE passthrough', kernelHasPassthrough, `needs Linux 6.9 or later (this is ${release()})`);

/** A shell command, asynchronously: this process serves the mount. */
async function sh(cmd: string): Promise<{ code: number; out: string; err: string }> {
  const r = await runCommand('sh', ['-c', cmd]);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** Resolves once `path` exists (polled; this process's event loop stays free). */
async function appears(path: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(skip)('FUSE passthrough of a local folder (libfuse 3 host)', () => {
  let dir: string;
  let src: string;
  let mnt: string;
  let m: MountedHost | undefined;
  let guest: Vfs | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-passthrough-'));
    src = join(dir, 'src');
    mnt = join(dir, 'mnt');
    mkdirSync(src);
    mkdirSync(mnt);
    guest = wrapGuest(await openLocalGuest({ kind: 'local', path: src, readOnly: false }), { timeoutMs: 10_000 });
    m = await fuse3Host.mount(guest, mnt, {});
  });

  afterEach(async () => {
    await m?.unmount('short').catch(() => {});
    await guest?.close?.();
    m = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('says so, and an open file is read and written (after its first write) while Berth cannot answer anything', async () => {
    expect(m!.info?.passthrough).toBe('on');
    // What speaks to the kernel is Berth itself; libfuse only mounted.
    expect(m!.info?.fuse).toMatch(/^kernel protocol 7\.\d+, mounted by libfuse 3\.\d+$/);
    const bytes = Buffer.alloc(1 << 20, 'abcdefgh');
    writeFileSync(join(src, 'old'), bytes);
    // The child opens both files through the mount (Berth answers), then waits for "go".
    const flags = join(dir, 'flag');
    mkdirSync(flags);
    const child = spawn(process.execPath, ['-e', `
      const fs = require('node:fs');
      const w = fs.openSync(${JSON.stringify(join(mnt, 'new'))}, 'w+');
      const r = fs.openSync(${JSON.stringify(join(mnt, 'old'))}, 'r');
      // The mount's first write makes the kernel ask whether files carry capabilities
      // (security.capability, to drop them); the local guest's ENOSYS ends that for good.
      // Answered here, while Berth is free.
      fs.writeSync(w, 'x', 0);
      fs.writeFileSync(${JSON.stringify(join(flags, 'ready'))}, '');
      while (!fs.existsSync(${JSON.stringify(join(flags, 'go'))})) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      const b = Buffer.alloc(1 << 20);
      let n = 0;
      for (let k; (k = fs.readSync(r, b, n, b.length - n, n)) > 0;) n += k;
      fs.writeSync(w, b, 0, n, 0);
      fs.writeSync(w, 'tail', n);
      const back = Buffer.alloc(4);
      fs.readSync(w, back, 0, 4, n);
      fs.writeFileSync(${JSON.stringify(join(flags, 'done'))}, String(n) + ' ' + back.toString());
    `], { stdio: 'inherit' });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await appears(join(flags, 'ready'));
      // Blocks this process, the one serving the mount, until the child is done (5 s at most).
      const waited = execFileSync('sh', ['-c', `touch '${flags}/go'; for i in $(seq 250); do [ -e '${flags}/done' ] && exit 0; sleep 0.02; done; echo timeout`], { encoding: 'utf8' });
      expect(waited).toBe('');
      expect(readFileSync(join(flags, 'done'), 'utf8')).toBe(`${bytes.length} tail`);
    } finally {
      // Unblocked now either way: a child left waiting on the mount is answered and ends.
      writeFileSync(join(flags, 'go'), '');
      await exited;
    }
    expect(Buffer.compare(readFileSync(join(src, 'new')), Buffer.concat([bytes, Buffer.from('tail')]))).toBe(0);
    expect((await sh(`stat -c %s '${mnt}/new'`)).out).toBe(`${bytes.length + 4}\n`);
  });

  it('opens of one file share it: appends, a second writer, truncates and sizes all agree with the backing folder', async () => {
    const r = await sh([
      `cd '${mnt}'`,
      'printf 0123456789 > f',
      // Held open for reading while another open appends and a third overwrites the start.
      'exec 3< f',
      'printf abc >> f',
      `printf XY | dd of=f bs=1 seek=0 conv=notrunc status=none`,
      'head -c 13 <&3; echo',
      'stat -c %s f',
      // Truncated by path while open, then grown again through the open file.
      'truncate -s 4 f',
      'stat -c %s f',
      'cat f; echo',
      'exec 3<&-',
      // Rewritten in place through a new open (no truncation), read back in both places.
      `${process.execPath} -e "const fs=require('fs');const fd=fs.openSync('f','r+');fs.writeSync(fd,'rewritten',0);fs.closeSync(fd)"`,
      'cat f; echo',
    ].join(' && '));
    expect(r.err).toBe('');
    expect(r.out).toBe('XY23456789abc\n13\n4\nXY23\nrewritten\n');
    expect(readFileSync(join(src, 'f'), 'utf8')).toBe('rewritten');
    expect(statSync(join(src, 'f')).size).toBe(9);
  });

  it('a file replaced in the backing folder while open through the mount: the next open reads the new one', async () => {
    writeFileSync(join(src, 'v'), 'old');
    const r = await sh([
      `exec 3< '${mnt}/v'`,
      `printf new-and-longer > '${src}/v.tmp'`,
      `mv '${src}/v.tmp' '${src}/v'`,
      `cat '${mnt}/v'; echo`,
      'cat <&3; echo',
      `stat -c %s '${mnt}/v'`,
    ].join(' && '));
    expect(r.err).toBe('');
    // The open file keeps the file it opened, as on any file system.
    expect(r.out).toBe('new-and-longer\nold\n14\n');
  });
});
