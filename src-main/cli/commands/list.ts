import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import type { MountStatus } from '../../../src-shared/mountState.ts';
import { DaemonNotRunningError } from '../../api/client.ts';
import { describeGuest } from '../../../src-shared/mountSpec.ts';
import { connect, printError, targetOf } from '../daemonClient.ts';

/** Usage of `berth list`. */
export const LIST_USAGE = `usage: berth list [--json]

Shows every mount the daemon knows: id, state, host, guest, target and the last error.
  --json   print the mounts as JSON (an empty list when no daemon runs)`;

/** One line of state for a person: "failed, retry in 4s". */
function stateText(m: MountStatus, now: number): string {
  if (m.state === 'failed' && m.nextRetryAt) {
    const s = Math.max(0, Math.round((Date.parse(m.nextRetryAt) - now) / 1000));
    return `failed, retry in ${s}s`;
  }
  if (m.state === 'mounted' && m.health?.node === 'unreachable') return 'mounted · node unreachable';
  return m.state;
}

/** Lays out rows in columns separated by two spaces. */
function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** `berth list [--json]`. */
export async function runList(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false });
  if (values.help) {
    process.stdout.write(`${LIST_USAGE}\n`);
    return 0;
  }
  let mounts: MountStatus[];
  let notices: { level: string; message: string }[] = [];
  try {
    const client = await connect();
    [mounts, notices] = await Promise.all([client.list(), client.notices()]);
  } catch (err) {
    if (err instanceof DaemonNotRunningError) {
      if (values.json) process.stdout.write('[]\n');
      else process.stdout.write('no Berth daemon is running, so nothing is mounted through Berth\n');
      return 0;
    }
    return printError(err);
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(mounts, null, 2)}\n`);
    return 0;
  }
  // What the daemon had to tell (a damaged mounts.json moved aside, a dead mount cleaned).
  for (const n of notices) if (n.level !== 'info') process.stderr.write(`${n.level}: ${n.message}\n`);
  if (mounts.length === 0) {
    process.stdout.write('no mounts (add one with `berth mount`)\n');
    return 0;
  }
  const now = Date.now();
  const rows = [['ID', 'STATE', 'HOST', 'GUEST', 'TARGET', 'ERROR']];
  for (const m of mounts) {
    const shown = m.error && (m.state === 'failed' || m.state === 'stale') ? m.error : m.health?.node === 'unreachable' ? m.health.error : undefined;
    const err = shown ? `${shown.message}${shown.hint ? ` (hint: ${shown.hint})` : ''}` : '';
    rows.push([m.id, stateText(m, now), m.spec.host.kind, describeGuest(m.spec.guest), targetOf(m), err]);
  }
  process.stdout.write(`${columns(rows)}\n`);
  return 0;
}

/** The `list` command. */
export const listCommand: Command = {
  name: 'list',
  summary: 'list the mounts: state, host, guest, target, error',
  help: LIST_USAGE,
  run: runList,
};
