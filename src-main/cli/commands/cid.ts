import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { connect, copyText, printError, UsageError } from '../daemonClient.ts';

/** Usage of `berth cid`. */
export const CID_USAGE = `usage: berth cid <path>... [--copy]

Prints the CID of each file or folder (inside Berth mounts), one per line.
  --copy   also put the CID on the clipboard (needs the Berth desktop app running)`;

/** `berth cid <path>`. */
export async function runCid(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { copy: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${CID_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('expected a <path> inside a mount');
  try {
    const client = await connect();
    const cids: string[] = [];
    for (const p of positionals) cids.push((await client.resolve(resolvePath(p))).cid);
    const text = cids.join('\n');
    process.stdout.write(`${text}\n`);
    return values.copy ? copyText(client, text) : 0;
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
