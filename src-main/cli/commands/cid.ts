import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { connect, printError, UsageError } from '../daemonClient.ts';

/** Usage of `berth cid`. */
export const CID_USAGE = `usage: berth cid <path>

Prints the CID of a file or folder inside a Berth mount.`;

/** `berth cid <path>`. */
export async function runCid(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${CID_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('expected one <path> inside a mount');
  try {
    const r = await (await connect()).resolve(resolvePath(positionals[0]!));
    process.stdout.write(`${r.cid}\n`);
    return 0;
  } catch (err) {
    return printError(err);
  }
}

/** The `cid` command. */
export const cidCommand: Command = {
  name: 'cid',
  summary: 'print the CID of a path inside a mount',
  help: CID_USAGE,
  run: runCid,
};
