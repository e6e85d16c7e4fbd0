import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { parseUiAddress } from '../../api/tcpGuard.ts';
import { LAUNCHER, UsageError } from '../daemonClient.ts';

/** Usage of `berth daemon`. */
export const DAEMON_USAGE = `usage: berth daemon [--ui 127.0.0.1:PORT]

Runs the Berth service in the foreground: the mount table (auto-mounts are restored),
the control API on $XDG_RUNTIME_DIR/berth/api.sock, and with --ui the browser UI on a
loopback address: open the printed URL (its #token=… lets the page use the API). Ctrl-C unmounts everything and stops.
Only one daemon runs per user; a second one reports the first and exits 0.`;

/** `berth daemon [--ui ADDR]`; resolves with the exit code once the daemon stopped. */
export async function runDaemon(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ui: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${DAEMON_USAGE}\n`);
    return 0;
  }
  if (values.ui !== undefined) {
    try {
      parseUiAddress(values.ui);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  // One failed promise somewhere must not take every mount down with the process.
  process.on('unhandledRejection', (reason) => {
    console.error(`${new Date().toISOString()} internal error (kept running): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  });
  // Loaded on use, so the other commands do not pay for hosts and guests.
  const { startDaemon } = await import('../../api/daemon.ts');
  const d = await startDaemon({ ...(values.ui ? { ui: values.ui } : {}), cliCommand: [process.execPath, LAUNCHER] });
  if (d.kind === 'already-running') {
    process.stdout.write(`a Berth daemon is already running (pid ${d.pid}, socket ${d.info.socket})\n`);
    return 0;
  }
  process.stdout.write(`berth daemon running (pid ${process.pid}), control socket ${d.api.socketPath}\n`);
  if (d.api.ui) process.stdout.write(`Berth in your browser: ${d.api.ui.url}\n`);
  await d.stopped;
  return 0;
}

/** The `daemon` command. */
export const daemonCommand: Command = {
  name: 'daemon',
  summary: 'run the service: mount table, restore, control API [--ui]',
  help: DAEMON_USAGE,
  run: runDaemon,
};
