import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { ShutdownLevelSchema } from '../../../src-shared/api.ts';
import { connect, findMount, printError, targetOf, UsageError } from '../daemonClient.ts';

/** Usage of `berth unmount`. */
export const UNMOUNT_USAGE = `usage: berth unmount <target> | --all [--level patient|short|immediate] [--forget]

<target> is a mount id, name or mount point (see \`berth list\`).
  --all        unmount every mount
  --level      patient: wait for busy files; short (default): force after 10 s;
               immediate: detach now
  --forget     also remove the mount from the table (it will not come back at start)`;

/** `berth unmount <target>|--all`. */
export async function runUnmount(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { all: { type: 'boolean' }, level: { type: 'string' }, forget: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`${UNMOUNT_USAGE}\n`);
    return 0;
  }
  if (values.all ? positionals.length !== 0 : positionals.length !== 1) throw new UsageError('expected one <target>, or --all');
  const level = values.level === undefined ? undefined : ShutdownLevelSchema.safeParse(values.level);
  if (level && !level.success) throw new UsageError(`invalid --level ${JSON.stringify(values.level)}: expected patient, short or immediate`);
  try {
    const client = await connect();
    const mounts = await client.list();
    const chosen = values.all ? mounts : [findMount(mounts, positionals[0]!)];
    let failed = 0;
    let kept = 0;
    await Promise.all(
      chosen.map(async (m) => {
        try {
          if (values.forget) await client.remove(m.id, level?.data);
          else await client.unmount(m.id, level?.data);
          process.stdout.write(`${values.forget ? 'removed' : 'unmounted'} ${m.id} (${targetOf(m)})\n`);
          if (!values.forget && m.spec.autoMount) kept++;
        } catch (err) {
          failed++;
          printError(err);
        }
      }),
    );
    if (kept) process.stdout.write(`${kept === 1 ? 'it stays' : 'they stay'} in the mount table and mount${kept === 1 ? 's' : ''} again when Berth starts; --forget removes ${kept === 1 ? 'it' : 'them'}\n`);
    return failed ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    return printError(err);
  }
}

/** The `unmount` command. */
export const unmountCommand: Command = {
  name: 'unmount',
  summary: 'unmount a mount (by id, name or mount point) or --all',
  help: UNMOUNT_USAGE,
  run: runUnmount,
};
