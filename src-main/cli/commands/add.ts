import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { serviceClient } from '../../api/serviceClient.ts';
import type { Command } from '../command.ts';
import { connectOrStart, printError, UsageError } from '../daemonClient.ts';

/** Usage of `berth add`. */
export const ADD_USAGE = `usage: berth add [--no-pin] [--json] <path>

Imports a file or folder into the IPFS node mounts use by default (the settings' node, a
running Kubo, else the embedded node) with Kubo's current import defaults (CIDv1, raw
leaves, 1 MiB chunks), pins it, and prints its CID and gateway link.
  --no-pin   add without pinning (the embedded node may then evict it)
  --json     print the whole answer as JSON`;

/** `berth add <path>`. */
export async function runAdd(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { 'no-pin': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`${ADD_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('expected one <path> of a file or folder to add');
  try {
    const client = await connectOrStart();
    const r = await serviceClient(client.endpoint).addContent({ path: resolvePath(positionals[0]!), pin: !values['no-pin'] });
    if (values.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else process.stdout.write(`added ${r.name} ${r.cid}${r.pinned ? ' (pinned)' : ''} to ${r.node}\n${r.link}\n`);
    return 0;
  } catch (err) {
    return printError(err);
  }
}

/** The `add` command. */
export const addCommand: Command = {
  name: 'add',
  summary: 'add a file or folder to IPFS (pinned); print its CID and link',
  help: ADD_USAGE,
  run: runAdd,
};
