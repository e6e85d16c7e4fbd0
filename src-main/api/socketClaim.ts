import { constants } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import type { Server } from 'node:net';
import type { InfoResponse } from '../../src-shared/api.ts';
import { ApiClient, DaemonNotRunningError } from './client.ts';

// The control socket is the per-user daemon lock. A pid file checked with kill(pid, 0)
// calls a killed daemon alive while it is a zombie (and any process that reused its pid),
// so the next daemon refused to start and nothing was restored. What matters is whether
// the holder answers: bind fails while the path exists; a connect then tells a live daemon
// (it answers /v1/info) from a socket left by a dead one (refused: the kernel closed the
// listener when the process died, before it became a zombie), which is taken over.

/** Another daemon answers on the socket: it is the user's daemon, never replaced. */
export class DaemonAlreadyRunning extends Error {
  override readonly name = 'DaemonAlreadyRunning';
  constructor(readonly info: InfoResponse) {
    super(`a Berth daemon is already running (pid ${info.pid})`);
  }
}

/** Something accepts connections on the socket but does not answer: a hung daemon, left alone. */
export class DaemonNotAnswering extends Error {
  override readonly name = 'DaemonNotAnswering';
}

/** A takeover lock older than this was left by a process that died mid-takeover (it lasts milliseconds). */
const TAKEOVER_STALE_MS = 10_000;
/** How long to wait for another daemon's takeover before giving up. */
const TAKEOVER_WAIT_MS = 20_000;

type Probe = { kind: 'alive'; info: InfoResponse } | { kind: 'stale' };

/** Asks whoever holds the socket who it is (ApiClient.info waits 5 s); `stale` when nobody listens there. */
async function probe(socketPath: string): Promise<Probe> {
  try {
    return { kind: 'alive', info: await new ApiClient({ socketPath }).info() };
  } catch (err) {
    if (err instanceof DaemonNotRunningError) return { kind: 'stale' };
    throw new DaemonNotAnswering(`something holds ${socketPath} but does not answer the Berth API (${(err as Error).message}); stop it, or remove the socket if no Berth daemon runs`);
  }
}

/**
 * Serializes takeovers of a stale socket (two daemons starting at once must not both
 * remove it, the second removing the first one's fresh socket). Resolves with the release
 * function. The lock lives for the few milliseconds of re-probe + unlink + bind.
 */
async function takeoverLock(socketPath: string): Promise<() => Promise<void>> {
  const file = `${socketPath}.takeover`;
  const until = Date.now() + TAKEOVER_WAIT_MS;
  for (;;) {
    try {
      const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await fh.close();
      return () => unlink(file).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const age = await stat(file).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > TAKEOVER_STALE_MS) await unlink(file).catch(() => undefined);
    else if (Date.now() > until) throw new Error(`another Berth daemon has been taking over ${socketPath} for ${TAKEOVER_WAIT_MS / 1000} s; remove ${file} if none is starting`);
    else await new Promise((r) => setTimeout(r, 50));
  }
}

function listen(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(socketPath, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Makes `server` listen on the control socket as the one daemon of this user; throws
 * DaemonAlreadyRunning (with its info) when a live daemon holds it, DaemonNotAnswering
 * when something holds it without answering. A socket left by a dead daemon is replaced.
 * The socket is created mode 0600 (under a umask) from its first instant.
 */
export async function claimControlSocket(server: Server, socketPath: string): Promise<void> {
  const bind = async (): Promise<boolean> => {
    const oldMask = process.umask(0o177);
    try {
      await listen(server, socketPath);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return false;
      throw err;
    } finally {
      process.umask(oldMask);
    }
  };
  for (let attempt = 0; attempt < 10; attempt++) {
    if (await bind()) return;
    const first = await probe(socketPath);
    if (first.kind === 'alive') throw new DaemonAlreadyRunning(first.info);
    const release = await takeoverLock(socketPath);
    try {
      // Under the lock: another daemon may have taken the socket over while we waited.
      const again = await probe(socketPath);
      if (again.kind === 'alive') throw new DaemonAlreadyRunning(again.info);
      await unlink(socketPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      // A daemon that found no socket at all may bind first; the next round meets it.
      if (await bind()) return;
    } finally {
      await release();
    }
  }
  throw new Error(`could not claim the control socket ${socketPath}`);
}
