import { parseArgs } from 'node:util';
import { parseDuration } from '../../src-shared/duration.ts';
import type { z } from 'zod';
import { describeIssues, MountInputSchema } from '../../src-shared/mountSpec.ts';
import { UsageError } from './command.ts';

// `berth mount <host> <guest> [flags] <target>` → a validated mount input. Kept apart from
// the command so the daemon-backed mount and the foreground one read flags identically.

/** The flags `berth mount` accepts (node:util parseArgs options). */
export const MOUNT_FLAGS = {
  'ipfs-api': { type: 'string' },
  root: { type: 'string' },
  name: { type: 'string' },
  path: { type: 'string' },
  'nfs-server': { type: 'string' },
  'nfs-export': { type: 'string' },
  'nfs-link-separator': { type: 'string' },
  'nfs-uid': { type: 'string' },
  'nfs-gid': { type: 'string' },
  'nfs-mount-port': { type: 'string' },
  'read-only': { type: 'boolean' },
  rw: { type: 'boolean' },
  timeout: { type: 'string' },
  'cache-expiry': { type: 'string' },
  uid: { type: 'string' },
  gid: { type: 'string' },
  'allow-other': { type: 'boolean' },
  xattrs: { type: 'boolean' },
  option: { type: 'string', short: 'o', multiple: true },
  clients: { type: 'string', multiple: true },
  'nfs-no-root-squash': { type: 'boolean' },
  'nfs-reserved-port': { type: 'boolean' },
  'nfs-allow-uid': { type: 'string', multiple: true },
  label: { type: 'string' },
  foreground: { type: 'boolean', short: 'f' },
  json: { type: 'boolean' },
} as const;

/** Guest kinds the CLI knows, in the order help lists them. */
export const GUEST_KINDS = ['ipfs', 'pinfs', 'ipns', 'keyfs', 'mfs', 'nfs', 'local'] as const;

/** What the mount command was asked to do. */
export interface ParsedMount {
  /** The mount input after validation, schema defaults applied. */
  input: z.infer<typeof MountInputSchema>;
  foreground: boolean;
  json: boolean;
}

function duration(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parseDuration(v);
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`);
  }
}

function id(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v)) throw new UsageError(`--${flag}: expected a numeric id like 1000, got ${JSON.stringify(v.slice(0, 40))}`);
  return Number(v);
}

function port(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw new UsageError(`--${flag}: expected a TCP port from 1 to 65535, got ${JSON.stringify(v.slice(0, 40))}`);
  return Number(v);
}

/** The flag each guest takes what it serves by (`berth mount fuse ipfs <cid> /mnt/x` is a natural first guess). */
const WHAT_FLAG: Partial<Record<string, string>> = { ipfs: '--root', ipns: '--name', local: '--path', mfs: '--path', nfs: '--nfs-server' };

/** For <host> <guest> <what> <target>: the same command, its other flags kept, with <what> given by its flag. */
function flagHint(args: readonly string[], tokens: readonly { kind: string; index: number }[]): string {
  const at = tokens.filter((t) => t.kind === 'positional').map((t) => t.index);
  const guest = args[at[1] ?? -1] ?? '';
  const flag = WHAT_FLAG[guest];
  if (at.length !== 4 || !flag) return '';
  const fixed = args.flatMap((a, i) => (i === at[2] ? [flag, a] : [a]));
  return `; ${guest} takes that by a flag: berth mount ${fixed.map(shellWord).join(' ')}`;
}

/** `s` as one word for a shell (quoted when it needs to be). */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Parses the arguments after `mount`; throws UsageError with what was expected. */
export function parseMountArgs(args: string[]): ParsedMount {
  let parsed;
  try {
    parsed = parseArgs({ args, options: MOUNT_FLAGS, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 3) {
    throw new UsageError(
      `expected <host> <guest> <target>, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}${positionals.length ? `: ${positionals.map((p) => JSON.stringify(p)).join(' ')}` : ''}${flagHint(args, parsed.tokens)}`,
    );
  }
  const [host, guest, target] = positionals as [string, string, string];
  if (host !== 'fuse' && host !== 'nfs') throw new UsageError(`unknown host ${JSON.stringify(host)}: expected fuse or nfs`);
  if (!(GUEST_KINDS as readonly string[]).includes(guest)) {
    throw new UsageError(`unknown guest ${JSON.stringify(guest)}: expected one of ${GUEST_KINDS.join(', ')}`);
  }
  if (v['read-only'] && v.rw) throw new UsageError('--read-only and --rw contradict each other');
  const readOnly = v.rw ? false : v['read-only'] ? true : undefined;
  if (v.xattrs && guest !== 'local') throw new UsageError('--xattrs applies to the local guest only');
  if (v.xattrs && host !== 'fuse') throw new UsageError('--xattrs applies to fuse hosts only (NFSv3 has no extended attributes)');

  const common = {
    timeoutMs: duration('timeout', v.timeout),
    cacheExpiryMs: duration('cache-expiry', v['cache-expiry']),
    // For the nfs guest, uid/gid are the AUTH_SYS credentials sent with every call.
    uid: id('uid', v.uid) ?? id('nfs-uid', v['nfs-uid']),
    gid: id('gid', v.gid) ?? id('nfs-gid', v['nfs-gid']),
  };
  const node = v['ipfs-api'];
  // Flags that make no sense for the chosen guest are refused rather than ignored.
  const only = (flag: keyof typeof v, kinds: string[]): void => {
    if (v[flag] !== undefined && !kinds.includes(guest)) throw new UsageError(`--${flag} applies to ${kinds.join('/')} guests, not ${guest}`);
  };
  only('ipfs-api', ['ipfs', 'pinfs', 'ipns', 'keyfs', 'mfs']);
  only('root', ['ipfs', 'ipns']);
  only('name', ['ipns']);
  only('path', ['local', 'mfs']);
  only('nfs-server', ['nfs']);
  only('nfs-export', ['nfs']);
  only('nfs-link-separator', ['nfs']);
  only('nfs-uid', ['nfs']);
  only('nfs-gid', ['nfs']);
  only('nfs-mount-port', ['nfs']);

  let g: Record<string, unknown>;
  switch (guest) {
    case 'ipfs':
      g = { kind: 'ipfs', root: v.root, node };
      break;
    case 'ipns':
      if (v.root && v.name) throw new UsageError('give the IPNS name with --name or --root, not both');
      g = { kind: 'ipns', name: v.name ?? v.root, node };
      break;
    case 'pinfs':
    case 'keyfs':
      g = { kind: guest, node };
      break;
    case 'mfs':
      g = { kind: 'mfs', path: v.path, node };
      break;
    case 'nfs':
      g = { kind: 'nfs', server: v['nfs-server'], export: v['nfs-export'], linkSeparator: v['nfs-link-separator'], mountPort: port('nfs-mount-port', v['nfs-mount-port']) };
      break;
    case 'local':
      if (v.path === undefined) throw new UsageError('the local guest needs --path <folder>');
      g = { kind: 'local', path: v.path, readOnly: readOnly ?? false, xattrs: v.xattrs ? true : undefined };
      break;
    default:
      throw new UsageError(`unknown guest ${guest}`);
  }
  // an MFS mount is for writing: writable unless --read-only
  const hostReadOnly = readOnly ?? (guest === 'mfs' ? false : undefined);
  const hostSpec: Record<string, unknown> =
    host === 'fuse'
      ? { kind: 'fuse', mountpoint: target, readOnly: hostReadOnly, allowOther: v['allow-other'], uid: common.uid, gid: common.gid, options: v.option }
      : {
          kind: 'nfs',
          listen: target,
          readOnly: hostReadOnly,
          clients: v.clients,
          rootSquash: v['nfs-no-root-squash'] ? false : undefined,
          reservedPort: v['nfs-reserved-port'] ? true : undefined,
          allowUids: v['nfs-allow-uid']?.map((u) => id('nfs-allow-uid', u)),
        };
  if (host === 'nfs' && (v['allow-other'] || v.option)) throw new UsageError('--allow-other and --option apply to fuse hosts only');
  if (host === 'fuse' && v.clients) throw new UsageError('--clients applies to nfs hosts only');
  for (const f of ['nfs-no-root-squash', 'nfs-reserved-port', 'nfs-allow-uid'] as const) {
    if (host === 'fuse' && v[f] !== undefined) throw new UsageError(`--${f} applies to nfs hosts only`);
  }

  const input = strip({ name: v.label, host: strip(hostSpec), guest: strip({ ...g, ...common }) });
  const checked = MountInputSchema.safeParse(input);
  if (!checked.success) throw new UsageError(describeIssues(checked.error));
  return { input: checked.data, foreground: v.foreground === true, json: v.json === true };
}

/** Drops undefined fields so schema defaults apply and messages name only what was given. */
function strip(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
}
