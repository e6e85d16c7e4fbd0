import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { connect, printError, UsageError } from '../daemonClient.ts';

/** Usage of `berth link`. */
export const LINK_USAGE = `usage: berth link <path> [--subdomain] [--gateway URL] [--native]

Prints a share link for a file or folder inside a Berth mount.
  --gateway URL   gateway to link to (default: the settings' gateway, http://127.0.0.1:8080)
  --subdomain     https://<cid>.ipfs.<gateway host>/ form (falls back to a path link for IP gateways)
  --native        ipfs://<cid> instead of a gateway link`;

/** `berth link <path> [--subdomain] [--gateway URL]`. */
export async function runLink(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { subdomain: { type: 'boolean' }, gateway: { type: 'string' }, native: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`${LINK_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('expected one <path> inside a mount');
  try {
    const r = await (await connect()).link({
      path: resolvePath(positionals[0]!),
      ...(values.gateway ? { gateway: values.gateway } : {}),
      ...(values.subdomain ? { subdomain: true } : {}),
    });
    if (r.fallbackReason) process.stderr.write(`note: a path link instead: ${r.fallbackReason}\n`);
    process.stdout.write(`${values.native ? r.native : r.link}\n`);
    return 0;
  } catch (err) {
    return printError(err);
  }
}

/** The `link` command. */
export const linkCommand: Command = {
  name: 'link',
  summary: 'print a share link for a path inside a mount',
  help: LINK_USAGE,
  run: runLink,
};
