import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { connect, copyText, printError, UsageError } from '../daemonClient.ts';

/** Usage of `berth link`. */
export const LINK_USAGE = `usage: berth link <path>... [--subdomain] [--gateway URL] [--native] [--copy]

Prints a share link for each file or folder (inside Berth mounts), one per line.
  --gateway URL   gateway to link to (default: the settings' gateway, http://127.0.0.1:8080)
  --subdomain     https://<cid>.ipfs.<gateway host>/ form (falls back to a path link for IP gateways)
  --native        ipfs://<cid> instead of a gateway link
  --copy          also put the link on the clipboard (needs the Berth desktop app running)`;

/** `berth link <path> [--subdomain] [--gateway URL]`. */
export async function runLink(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { subdomain: { type: 'boolean' }, gateway: { type: 'string' }, native: { type: 'boolean' }, copy: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`${LINK_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('expected a <path> inside a mount');
  try {
    const client = await connect();
    const links: string[] = [];
    for (const p of positionals) {
      const r = await client.link({
        path: resolvePath(p),
        ...(values.gateway ? { gateway: values.gateway } : {}),
        ...(values.subdomain ? { subdomain: true } : {}),
      });
      if (r.fallbackReason) process.stderr.write(`note: a path link instead: ${r.fallbackReason}\n`);
      links.push(values.native ? r.native : r.link);
    }
    const text = links.join('\n');
    process.stdout.write(`${text}\n`);
    return values.copy ? copyText(client, text) : 0;
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
