import type { z } from 'zod';
import { describeGuest, type MountInputSchema } from '../../src-shared/mountSpec.ts';
import { openGuest } from '../guests/index.ts';
import { mountHost } from '../hosts/index.ts';
import { hostContext, wrapOpened } from '../service/openMount.ts';
import { selfOverlap } from '../service/selfOverlap.ts';
import { EXIT, UsageError } from './command.ts';

// A mount served by this process until Ctrl-C, like `rclone mount` without --daemon:
// open the guest, wrap it (deadlines, caches), present it, and take it down cleanly on
// SIGINT/SIGTERM, on an external unmount, or when anything fails on the way up.


/** Serves one mount in the foreground; resolves to the exit code once it is gone. */
export async function runForeground(input: z.infer<typeof MountInputSchema>, out = process.stdout, err = process.stderr): Promise<number> {
  // Signals are taken before anything starts: a Ctrl-C while the mount comes up must not
  // kill the process between mounting and handling it (a dead mount point, ENOTCONN). One
  // that arrives then is acted on as soon as the mount is up (or the guest is open).
  let signals = 0;
  let caught: NodeJS.Signals | undefined;
  let onStop = (_sig: NodeJS.Signals): void => {};
  const on = (sig: NodeJS.Signals): void => {
    signals++;
    // A second Ctrl-C while a busy mount is being taken away: give up waiting.
    if (signals > 1) {
      err.write(`berth: ${sig} again, leaving without a clean unmount\n`);
      process.exit(EXIT.failure);
    }
    caught = sig;
    onStop(sig);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  try {
    return await serve(input, out, err, () => caught, (fn) => (onStop = fn));
  } finally {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  }
}

/** runForeground once its signal handlers are in place. */
async function serve(
  input: z.infer<typeof MountInputSchema>,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  caught: () => NodeJS.Signals | undefined,
  onStop: (fn: (sig: NodeJS.Signals) => void) => void,
): Promise<number> {
  const { guest, host } = input;
  const overlap = selfOverlap(input, []);
  if (overlap) throw new UsageError(overlap);
  const vfs = wrapOpened(await openGuest(guest, {}), guest);
  const early = caught();
  if (early) {
    out.write(`${early} before mounting: not mounted\n`);
    await vfs.close().catch(() => {});
    return EXIT.ok;
  }
  let mounted;
  try {
    mounted = await mountHost(host, vfs, hostContext(guest));
  } catch (e) {
    await vfs.close().catch(() => {});
    throw e;
  }
  out.write(`mounted ${describeGuest(guest)} at ${mounted.target}\n`);
  for (const [k, v] of Object.entries(mounted.info ?? {})) out.write(`  ${k}: ${v}\n`);
  out.write('press Ctrl-C to unmount\n');

  const stop = new Promise<NodeJS.Signals>((resolve) => {
    const sig = caught();
    // Caught while the mount came up: take it away again right now.
    if (sig) resolve(sig);
    else onStop(resolve);
  });
  // A bug anywhere in this process must not leave a dead mount point behind (ENOTCONN).
  const crashed = new Promise<'crash'>((resolve) => {
    const onCrash = (e: unknown): void => {
      err.write(`berth: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      resolve('crash');
    };
    process.once('uncaughtException', onCrash);
    process.once('unhandledRejection', onCrash);
  });
  const why = await Promise.race([stop, crashed, mounted.done.then(() => 'external' as const)]);
  let code: number = EXIT.ok;
  if (why === 'external') {
    out.write(`${mounted.target} was unmounted from outside\n`);
  } else {
    if (why === 'crash') code = EXIT.failure;
    out.write(`unmounting ${mounted.target} (${why})\n`);
    try {
      await mounted.unmount();
    } catch (e) {
      err.write(`berth: ${e instanceof Error ? e.message : String(e)}\n`);
      code = EXIT.failure;
    }
  }
  await vfs.close().catch(() => {});
  if (code === EXIT.ok) out.write('unmounted\n');
  return code;
}
