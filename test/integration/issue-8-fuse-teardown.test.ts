import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';
import { runCommand } from '../../src-main/sys/runCommand.ts';

// Issue 8, the cause of the daemon's shutdown hang: libfuse ends a session by cancelling
// its worker threads, and a SIGCHLD handled on one of them while it is being cancelled
// loses libuv's signal lock, so the process never handles a signal again (runCommand.ts
// has the whole story). Berth's FUSE-serving processes start no child of their own: every
// command runs under the command helper. This runs the worst case in a child process:
// many sessions ending while commands run all the time. Before the helper, the same
// script with direct child processes hung within 6 or 7 rounds, every time it was tried.

const ROOT = resolve(import.meta.dirname, '../..');
const skip = missingFuse();

/** Kernel stacks of every thread of `pid` (what a hang looks like, for the failure message). */
async function stacks(pid: number): Promise<string> {
  const out: string[] = [];
  for (const t of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const wchan = await readFile(`/proc/${pid}/task/${t}/wchan`, 'utf8').catch(() => '?');
    out.push(`${t} ${wchan}`);
  }
  return out.join('\n');
}

describe.skipIf(skip)('issue 8: FUSE sessions ending while commands run', () => {
  it('unmounts 20 mounts in each of 15 rounds while 64 loops run commands, and never hangs', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/teardownStorm.ts'), '20', '15', '64'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // A hang never ends by itself; the rounds take seconds.
    const hung = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 240_000).unref());
    const outcome = await Promise.race([exited, hung]);
    let diagnosis = '';
    if (outcome === 'hung') {
      diagnosis = await stacks(child.pid!);
      child.kill('SIGKILL');
      await exited;
    }
    // A hung run leaves its mounts behind (its helper detaches them once it is gone).
    const base = /^base (\S+)$/m.exec(output)?.[1];
    if (base) for (const mp of fuseMounts().filter((m) => m.startsWith(base))) await runCommand('fusermount', ['-uz', mp]);
    expect(outcome, `the process hung after:\n${output.slice(-400)}\nthreads:\n${diagnosis}`).toBe(0);
    expect(output).toMatch(/round 14\ndone/);
  }, 300_000);
});
