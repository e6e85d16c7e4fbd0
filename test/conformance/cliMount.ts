import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

// A FUSE mount served by `berth mount ... --foreground` in a child process. Tests that read
// a mount with Node's own fs must not serve it from the same process: both sides would
// share libuv's 4 threadpool threads, and 16 blocked reads would starve the server.

/** The `berth` bin, run from source. */
export const LAUNCHER = join(import.meta.dirname, '../../src-main/cli/berth.cjs');

/** A running foreground mount. */
export interface CliMount {
  child: ChildProcess;
  /** Everything it printed so far. */
  log: { out: string; err: string };
  /** SIGINT, then waits for the exit code (SIGKILL after 15 s). */
  stop(): Promise<number | null>;
}

/** Starts `berth mount <args>` and resolves once it prints "mounted". */
export async function cliMount(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliMount> {
  const child = spawn(process.execPath, [LAUNCHER, 'mount', ...args, '--foreground'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = { out: '', err: '' };
  child.stdout.on('data', (d: Buffer) => (log.out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log.err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (/^mounted /m.test(log.out)) resolve();
    };
    child.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`berth mount exited with ${code}: ${log.err}${log.out}`)));
  });
  return {
    child,
    log,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      try {
        return await exited;
      } finally {
        clearTimeout(t);
      }
    },
  };
}
