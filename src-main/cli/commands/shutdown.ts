import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { ShutdownLevelSchema } from '../../../src-shared/api.ts';
import { DaemonNotRunningError } from '../../api/client.ts';
import { connect, printError, UsageError } from '../daemonClient.ts';

/** Usage of `berth shutdown`. */
export const SHUTDOWN_USAGE = `usage: berth shutdown [--level patient|short|immediate]

Unmounts everything and stops the daemon; returns once it is gone.
  --level   patient: wait for busy files; short (default): force after 10 s; immediate`;

/** `berth shutdown [--level ...]`. */
export async function runShutdown(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { level: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${SHUTDOWN_USAGE}\n`);
    return 0;
  }
  const level = ShutdownLevelSchema.safeParse(values.level ?? 'short');
  if (!level.success) throw new UsageError(`invalid --level ${JSON.stringify(values.level)}: expected patient, short or immediate`);
  try {
    const client = await connect();
    const { pid } = await client.info();
    await client.shutdown(level.data);
    // Gone means the socket no longer answers; `patient` may wait on busy files for long.
    for (;;) {
      try {
        await client.info();
      } catch (err) {
        if (err instanceof DaemonNotRunningError) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    process.stdout.write(`berth daemon (pid ${pid}) stopped\n`);
    return 0;
  } catch (err) {
    if (err instanceof DaemonNotRunningError) {
      process.stdout.write('no Berth daemon is running\n');
      return 0;
    }
    return printError(err);
  }
}

/** The `shutdown` command. */
export const shutdownCommand: Command = {
  name: 'shutdown',
  summary: 'unmount everything and stop the daemon',
  help: SHUTDOWN_USAGE,
  run: runShutdown,
};
