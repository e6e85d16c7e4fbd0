import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorInfo } from '../../src-shared/errors.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { ApiClient, ApiError, DaemonNotRunningError } from '../api/client.ts';
import { stateDir } from '../service/paths.ts';
import { UsageError } from './command.ts';

// What the daemon-backed commands share: finding (or starting) the daemon, naming a
// mount on the command line, and printing mounts and errors the same way.

/** The `berth` bin (it sizes libuv's threadpool, then runs launcher.mjs); a background daemon is started through it. */
export const LAUNCHER = [new URL('./berth.cjs', import.meta.url), new URL('../../src-main/cli/berth.cjs', import.meta.url)]
  // Beside this file when run from source; two folders up from out/cli/ when bundled.
  .map((u) => fileURLToPath(u))
  .find((p) => existsSync(p)) ?? fileURLToPath(new URL('./berth.cjs', import.meta.url));

export { UsageError } from './command.ts';

/** Prints an API or connection error (with its hint) to stderr; returns exit code 1. */
export function printError(err: unknown): number {
  if (err instanceof ApiError) {
    process.stderr.write(`berth: ${err.info.message}\n`);
    if (err.info.hint) process.stderr.write(`hint: ${err.info.hint}\n`);
  } else if (err instanceof DaemonNotRunningError) {
    process.stderr.write(`berth: ${err.message}\nhint: start one with \`berth daemon\` (or \`berth mount\` starts one)\n`);
  } else {
    process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  return 1;
}

/** Prints a mount's failure the way `mount` and `list` show it. */
export function describeError(error: ErrorInfo): string {
  return `${error.message}${error.errno ? ` (${error.errno})` : ''}${error.hint ? `\nhint: ${error.hint}` : ''}`;
}


/** Where a mount is: its mount point, or the address its NFS server bound. */
export function targetOf(m: MountStatus): string {
  return m.spec.host.kind === 'fuse' ? m.spec.host.mountpoint : (m.address ?? m.spec.host.listen);
}

/** Finds the mount a user named: by id, by name, or by mount point / listen address. */
export function findMount(mounts: MountStatus[], target: string): MountStatus {
  const byId = mounts.find((m) => m.id === target);
  if (byId) return byId;
  const abs = target.startsWith('/') || target.startsWith('.') ? resolvePath(target) : undefined;
  const matches = mounts.filter(
    (m) =>
      m.spec.name === target ||
      (abs !== undefined && m.spec.host.kind === 'fuse' && resolvePath(m.spec.host.mountpoint) === abs) ||
      (m.spec.host.kind === 'nfs' && (m.spec.host.listen === target || m.address === target)),
  );
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new UsageError(`${target} names ${matches.length} mounts (${matches.map((m) => m.id).join(', ')}); use an id`);
  throw new UsageError(`no mount ${JSON.stringify(target)}: expected a mount id, name or mount point (see \`berth list\`)`);
}

/**
 * `--copy`: asks the running desktop app to put `text` on the clipboard. The text was
 * printed already; when nothing can copy it, says why and returns 1 (the file manager's
 * "Copy CID" script shows that message).
 */
export async function copyText(client: ApiClient, text: string): Promise<number> {
  try {
    await client.writeClipboard(text);
    process.stderr.write('copied to the clipboard\n');
    return 0;
  } catch (err) {
    const why = err instanceof ApiError ? err.info.message : err instanceof Error ? err.message : String(err);
    process.stderr.write(`berth: not copied: ${why}\n`);
    if (err instanceof ApiError && err.info.hint) process.stderr.write(`hint: ${err.info.hint}\n`);
    return 1;
  }
}

/** A client of the running daemon, or DaemonNotRunningError. */
export async function connect(): Promise<ApiClient> {
  const client = new ApiClient();
  await client.info();
  return client;
}

/**
 * A client of the running daemon; starts one in the background when none runs, its
 * output going to daemon.log in the state folder. Waits until it answers.
 */
export async function connectOrStart(): Promise<ApiClient> {
  const client = new ApiClient();
  try {
    await client.info();
    return client;
  } catch (err) {
    if (!(err instanceof DaemonNotRunningError)) throw err;
  }
  const dir = stateDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const logFile = join(dir, 'daemon.log');
  const fd = openSync(logFile, 'a', 0o600);
  let exited: string | undefined;
  try {
    const child = spawn(process.execPath, [...process.execArgv, LAUNCHER, 'daemon'], { detached: true, stdio: ['ignore', fd, fd], env: process.env });
    // Exit 0 means another daemon won the race to start: keep waiting for that one.
    child.once('exit', (code, sig) => {
      if (code !== 0) exited = sig ?? `exit ${code}`;
    });
    child.unref();
  } finally {
    closeSync(fd);
  }
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      await client.info();
      return client;
    } catch (err) {
      if (!(err instanceof DaemonNotRunningError)) throw err;
    }
    if (exited !== undefined || Date.now() > until) {
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n').trim();
      // A daemon started by someone else at the same moment is just as good.
      const again = await client.info().then(() => true, () => false);
      if (again) return client;
      throw new Error(`the background daemon ${exited ? `stopped (${exited})` : 'did not answer within 20 s'}; see ${logFile}${tail ? `:\n${tail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
