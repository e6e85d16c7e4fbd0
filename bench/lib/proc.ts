import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isMounted } from '../../src-main/hosts/mountInfo.ts';

/** CPU milliseconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export async function cpuMs(pid: number): Promise<number> {
  const { user, sys } = await cpuSplitMs(pid);
  return user + sys;
}

/** CPU a process has used so far in user and in kernel mode, ms (utime and stime of /proc/<pid>/stat). */
export async function cpuSplitMs(pid: number): Promise<{ user: number; sys: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10 };
}

/** Resident memory of a process in MiB, from /proc/<pid>/status. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : 0;
}


const LAUNCHER = resolve(import.meta.dirname, '../../src-main/cli/berth.cjs');

/** A `berth mount … --foreground` child serving one mount. */
export interface ForegroundMount {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `berth mount <args> --foreground <mountpoint>` and waits until the kernel serves it. */
export async function foregroundMount(args: string[], mountpoint: string): Promise<ForegroundMount> {
  const child = spawn(process.execPath, [LAUNCHER, 'mount', ...args, '--foreground', mountpoint], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  const deadline = Date.now() + 30_000;
  while (!(await isMounted(mountpoint))) {
    if (child.exitCode !== null) throw new Error(`berth mount exited early: ${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`berth mount did not serve ${mountpoint} within 30 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      // The kernel serves the mount a moment before the CLI installs its SIGINT handler
      // (it prints this line then); a signal in between kills it and leaves a dead mount.
      for (let i = 0; i < 200 && !log.includes('press Ctrl-C') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A `berth mount nfs … --foreground` child serving one NFS export. */
export interface ForegroundNfsHost extends ForegroundMount {
  /** The one port serving both NFS and MOUNT. */
  port: number;
}

/** Starts `berth mount nfs <args> --foreground <listen>` and waits until it prints its port. */
export async function foregroundNfsHost(args: string[], listen = '/ip4/127.0.0.1/tcp/0'): Promise<ForegroundNfsHost> {
  const child = spawn(process.execPath, [LAUNCHER, 'mount', 'nfs', ...args, '--foreground', listen], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`berth mount nfs did not report its port within 30 s: ${log}`));
    }, 30_000);
    const onData = (b: Buffer): void => {
      log += b.toString();
      const m = /^\s*port: (\d+)$/m.exec(log);
      // Ready once the SIGINT handler is in place (see ForegroundMount.stop).
      if (m && log.includes('press Ctrl-C')) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`berth mount nfs exited ${String(code)} before serving: ${log}`));
    });
  });
  return {
    child,
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Pid of the process listening on a loopback TCP port (from `ss`), or undefined. */
export function listenerPid(port: number): number | undefined {
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const m = /pid=(\d+)/.exec(out);
  return m ? Number(m[1]) : undefined;
}
