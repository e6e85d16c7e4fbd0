import { readdir, readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MountSpec } from '../../src-shared/mountSpec.ts';
import { MountSpecSchema } from '../../src-shared/mountSpec.ts';
import { STORE_VERSION } from '../../src-main/service/MountStore.ts';
import { berthSandbox, missingLauncher, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

// Issue 8: `berth daemon` with 50 auto-mounts, SIGINT about 30 ms after the last came up,
// stopped after "shutting down (short)" and never exited, 1 run in 6. Its mounts' FUSE
// sessions ended while its fusermount children exited, and a SIGCHLD handled on a libfuse
// thread being cancelled killed the process's signal handling (src-main/sys/runCommand.ts).
// Here: SIGINT while the last auto-mounts are still coming up, 20 times over; every run
// must exit 0 with nothing left mounted. The cause itself, which this end-to-end loop
// meets only now and then, is reproduced every time in issue-8-fuse-teardown.test.ts.

const skip = missingLauncher() ?? missingFuse();
const COUNT = 20;
const RUNS = 20;

async function threads(pid: number): Promise<string> {
  const out: string[] = [];
  for (const t of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) out.push(`${t} ${await readFile(`/proc/${pid}/task/${t}/wchan`, 'utf8').catch(() => '?')}`);
  return out.join(', ');
}

describe.skipIf(skip)('issue 8: SIGINT while the last auto-mounts come up', () => {
  let sb: BerthSandbox;
  const specs: MountSpec[] = [];
  beforeAll(async () => {
    sb = await berthSandbox();
    const src = await sb.dir('src');
    await writeFile(join(src, 'hello.txt'), 'hello\n');
    for (let i = 0; i < COUNT; i++) {
      specs.push(MountSpecSchema.parse({ id: `m${i}`, host: { kind: 'fuse', mountpoint: await sb.dir(`mnt/${i}`), readOnly: true }, guest: { kind: 'local', path: src, readOnly: true } }));
    }
    await mkdir(sb.configDir, { recursive: true });
    await writeFile(join(sb.configDir, 'mounts.json'), JSON.stringify({ version: STORE_VERSION, mounts: specs, settings: {} }));
  });
  afterAll(async () => {
    await sb?.cleanup();
  });

  it(`stops cleanly every time (${RUNS} runs of ${COUNT} auto-mounts)`, async () => {
    for (let run = 0; run < RUNS; run++) {
      const d = await sb.startDaemon();
      // Signal once all but the last few are up: they are still mounting when it lands.
      for (;;) {
        const up = (await sb.client.list()).filter((m) => m.state === 'mounted').length;
        if (up >= COUNT - 3) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      d.child.kill('SIGINT');
      // A hang never ends by itself; a clean stop takes a second or two.
      const code = await Promise.race([d.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000).unref())]);
      const why = code === 'hung' ? `run ${run} hung; threads: ${await threads(d.pid)}\n${d.output().slice(-1500)}` : d.output().slice(-1500);
      if (code === 'hung') d.child.kill('SIGKILL');
      expect(code, why).toBe(0);
      expect(fuseMounts().filter((m) => m.startsWith(sb.base)), `run ${run}`).toEqual([]);
    }
  }, 600_000);
});
