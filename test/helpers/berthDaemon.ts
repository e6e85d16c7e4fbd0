import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiClient, DaemonNotRunningError } from '../../src-main/api/client.ts';
import { runCommand } from '../../src-main/sys/runCommand.ts';
import { fuseMounts } from './peers.ts';

// Runs the real `berth` CLI and daemon as child processes, each test with its own
// XDG_CONFIG_HOME / XDG_RUNTIME_DIR / XDG_STATE_HOME, and cleans up after it.

const ROOT = resolve(import.meta.dirname, '../..');
/** The `berth` bin. */
export const LAUNCHER = join(ROOT, 'src-main/cli/berth.cjs');

/** A sandbox for one test: temp folders and the env that points Berth at them. */
export interface BerthSandbox {
  base: string;
  env: NodeJS.ProcessEnv;
  configDir: string;
  socketPath: string;
  client: ApiClient;
  /** Creates an empty folder under the sandbox (a mount point or a local guest root). */
  dir(name: string): Promise<string>;
  /** Kills every process it started, lazily unmounts every FUSE mount under base, deletes base. */
  cleanup(): Promise<void>;
  /** Runs `berth <args>` to completion. */
  run(args: string[], opts?: { timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Starts `berth daemon <args>` and waits until its API answers. */
  startDaemon(args?: string[]): Promise<DaemonProcess>;
}

/** A daemon child process. */
export interface DaemonProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<number | null>;
}

function launch(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // Exactly what the `berth` bin runs: no polyfills, no loader flags.
  return spawn(process.execPath, [LAUNCHER, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Reason the CLI cannot run yet (the launcher is missing), or undefined. */
export function missingLauncher(): string | undefined {
  return existsSync(LAUNCHER) ? undefined : `${LAUNCHER} does not exist yet`;
}

/** Creates a sandbox; call cleanup() in afterEach/afterAll. */
export async function berthSandbox(): Promise<BerthSandbox> {
  const base = await mkdtemp(join(tmpdir(), 'berth-it-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: join(base, 'config'),
    XDG_RUNTIME_DIR: join(base, 'run'),
    XDG_STATE_HOME: join(base, 'state'),
    // the embedded IPFS node's blocks (a test never touches the user's own)
    XDG_DATA_HOME: join(base, 'data'),
    NODE_OPTIONS: '',
  };
  await mkdir(join(base, 'run'), { recursive: true, mode: 0o700 });
  const socketPath = join(base, 'run', 'berth', 'api.sock');
  const children = new Set<ChildProcess>();
  const client = new ApiClient({ socketPath });

  const sandbox: BerthSandbox = {
    base,
    env,
    configDir: join(base, 'config', 'berth'),
    socketPath,
    client,
    async dir(name) {
      const p = join(base, name);
      await mkdir(p, { recursive: true });
      return p;
    },
    async run(args, opts = {}) {
      // Through Berth's command helper: a test process that hosts the service (the Electron
      // app's tests) serves FUSE, and a child of its own exiting just as one of its mounts
      // goes (berth unmount) could hang it (src-main/sys/runCommand.ts).
      // env -i and the sandbox's whole environment, exactly what a spawn with `env` passes.
      const vars = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
      const r = await runCommand('env', ['-i', ...vars, process.execPath, LAUNCHER, ...args], { timeoutMs: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL' });
      return { code: r.code, stdout: r.stdout, stderr: r.stderr };
    },
    async startDaemon(args = []) {
      const child = launch(['daemon', ...args], env);
      children.add(child);
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      void exited.then(() => children.delete(child));
      let gone = false;
      void exited.then(() => (gone = true));
      const until = Date.now() + 30_000;
      for (;;) {
        try {
          const info = await client.info();
          if (info.pid === child.pid) break;
        } catch (err) {
          if (!(err instanceof DaemonNotRunningError)) throw err;
        }
        if (gone) throw new Error(`berth daemon exited early:\n${out}`);
        if (Date.now() > until) throw new Error(`berth daemon did not answer within 30 s:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return { child, pid: child.pid!, output: () => out, exited };
    },
    async cleanup() {
      for (const c of children) c.kill('SIGKILL');
      // A daemon the CLI started in the background answers on this sandbox's socket.
      const info = await client.info().catch(() => undefined);
      // Never this process: a test may host the service in-process (the Electron app's tests).
      if (info && info.pid > 0 && info.pid !== process.pid) {
        try {
          process.kill(info.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await new Promise((r) => setTimeout(r, 200));
      for (const mp of fuseMounts()) {
        if (mp.startsWith(base)) {
          try {
            execFileSync('fusermount', ['-uz', mp], { stdio: 'ignore' });
          } catch {
            // Already gone.
          }
        }
      }
      await rm(base, { recursive: true, force: true }).catch(() => undefined);
    },
  };
  return sandbox;
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(fn: () => Promise<T> | T, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
