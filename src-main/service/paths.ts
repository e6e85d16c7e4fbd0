import { homedir } from 'node:os';
import { join } from 'node:path';

// Where Berth keeps its files when it runs headless (Electron passes userData instead
// of configDir). Everything reads the environment at call time so tests can point
// each daemon at its own temp folders.

/** Folder of mounts.json: $XDG_CONFIG_HOME/berth, else ~/.config/berth. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'berth');
}

/** Folder of logs (daemon.log): $XDG_STATE_HOME/berth, else ~/.local/state/berth. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'berth');
}

/** Folder where NFS exports on fixed ports leave their handle tables for their next run. */
export function nfsHandlesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'nfs-handles');
}

/**
 * Folder of the control socket (also the one-daemon lock): $XDG_RUNTIME_DIR/berth, else
 * /tmp/berth-<uid> (created 0700 by the daemon, which checks its owner).
 */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_RUNTIME_DIR && env.XDG_RUNTIME_DIR.startsWith('/')) return join(env.XDG_RUNTIME_DIR, 'berth');
  return join('/tmp', `berth-${process.getuid?.() ?? 'user'}`);
}

/** The control API's unix socket. */
export function socketPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(runtimeDir(env), 'api.sock');
}
