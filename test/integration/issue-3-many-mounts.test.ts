import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MountSpec } from '../../src-shared/mountSpec.ts';
import { MountSpecSchema } from '../../src-shared/mountSpec.ts';
import { STORE_VERSION } from '../../src-main/service/MountStore.ts';
import { berthSandbox, missingLauncher, waitFor, type BerthSandbox, type DaemonProcess } from '../helpers/berthDaemon.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

// Issue 3: a daemon restoring 50 local-guest FUSE auto-mounts mounted 5 and hung forever.
// It checked each fresh mount with a threadpool stat of its own mount point, and answering
// that stat needed a threadpool thread too (the local guest's lstat): with every pool
// thread parked in such a stat, nothing could answer. The daemon must come up with all of
// them, each readable from another process, and leave nothing mounted when it stops.
// cacheExpiryMs 0: the bench hit it when the guest's 1 s attribute cache of the root had
// expired under load; without the cache every getattr reaches the guest, as it did there.

const skip = missingLauncher() ?? missingFuse();
const COUNT = 50;
const run = promisify(execFile);

describe.skipIf(skip)('issue 3: a daemon restoring many FUSE auto-mounts at once', () => {
  let sb: BerthSandbox;
  let daemon: DaemonProcess | undefined;
  const specs: MountSpec[] = [];

  beforeAll(async () => {
    sb = await berthSandbox();
    for (let i = 0; i < COUNT; i++) {
      const src = await sb.dir(`src/${i}`);
      await writeFile(join(src, 'hello.txt'), `hello ${i}\n`);
      specs.push(MountSpecSchema.parse({ id: `m${i}`, name: `m${i}`, host: { kind: 'fuse', mountpoint: await sb.dir(`mnt/${i}`), readOnly: true }, guest: { kind: 'local', path: src, readOnly: true, cacheExpiryMs: 0 } }));
    }
    await mkdir(sb.configDir, { recursive: true });
    await writeFile(join(sb.configDir, 'mounts.json'), JSON.stringify({ version: STORE_VERSION, mounts: specs, settings: {} }));
  });
  afterAll(async () => {
    await sb.cleanup();
  });

  it(`brings all ${COUNT} up within 60 s, each readable, and shuts down clean`, async () => {
    // Node's default pool of 4 threads: the fewest threads, the easiest deadlock (the bin sets 16).
    sb.env.UV_THREADPOOL_SIZE = '4';
    const t0 = Date.now();
    daemon = await sb.startDaemon();
    const up = await waitFor(async () => {
      const ms = await sb.client.list();
      return ms.length === COUNT && ms.every((m) => m.state === 'mounted') ? ms : undefined;
    }, 60_000, `all ${COUNT} mounts mounted (daemon log:\n${daemon.output().slice(-2000)})`);
    const took = Date.now() - t0;
    console.log(`issue 3: ${COUNT} auto-mounts up in ${took} ms`);
    expect(up).toHaveLength(COUNT);
    const ours = fuseMounts().filter((m) => m.startsWith(sb.base));
    expect(ours.sort()).toEqual(specs.map((s) => (s.host as { mountpoint: string }).mountpoint).sort());

    // Read every one from a child process (a reader that is not the serving daemon).
    const reads = await Promise.all(
      specs.map((s, i) => run('cat', [join((s.host as { mountpoint: string }).mountpoint, 'hello.txt')], { timeout: 20_000 }).then((r) => r.stdout === `hello ${i}\n`)),
    );
    expect(reads.every(Boolean)).toBe(true);

    // A local guest reading through one of the daemon's own mounts is refused, not served.
    const inside = await sb.client.add({ host: { kind: 'fuse', mountpoint: await sb.dir('mnt-extra') }, guest: { kind: 'local', path: (specs[0]!.host as { mountpoint: string }).mountpoint }, autoMount: false });
    expect(inside.state).toBe('failed');
    expect(inside.error?.message).toMatch(/lies inside the FUSE mount .* served by this same Berth process/);
    await sb.client.remove(inside.id);

    const t1 = Date.now();
    const r = await sb.run(['shutdown'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    await Promise.race([daemon.exited, new Promise((_, reject) => setTimeout(() => reject(new Error('the daemon did not exit within 30 s')), 30_000))]);
    console.log(`issue 3: shutdown with ${COUNT} mounts took ${Date.now() - t1} ms`);
    expect(fuseMounts().filter((m) => m.startsWith(sb.base))).toEqual([]);
  }, 150_000);
});
