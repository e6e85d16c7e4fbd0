import type { MountInput } from '../../src-shared/mountSpec.ts';
import { describeGuest, mountTarget } from '../../src-shared/mountSpec.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { ApiError } from '../api/client.ts';
import { connectOrStart, describeError, findMount, printError } from './daemonClient.ts';

/**
 * `berth mount` without --foreground: hands the spec to the daemon (starting one in the
 * background when none runs) and returns once it is mounted (exit 0) or failed (prints
 * the error and its hint, exit 1). A mount point the table already knows but that is not
 * up is reused with the new spec; one that is up is a conflict.
 */
export async function mountViaDaemon(input: MountInput): Promise<number> {
  try {
    const client = await connectOrStart();
    let status: MountStatus;
    let created = false;
    const existing = await client
      .list()
      .then((ms) => {
        try {
          return findMount(ms, mountTarget(input.host as Parameters<typeof mountTarget>[0]));
        } catch {
          return undefined;
        }
      });
    if (existing && (existing.state === 'unmounted' || existing.state === 'failed' || existing.state === 'stale')) {
      await client.update(existing.id, input);
      status = await client.mount(existing.id);
    } else {
      status = await client.add(input);
      created = true;
    }
    if (status.state === 'mounted') {
      process.stdout.write(`mounted ${describeGuest(status.spec.guest)} at ${status.address ?? mountTarget(status.spec.host)} (${status.id})\n`);
      // NFS hosts: how to reach the server that was just started.
      if (status.info?.url) process.stdout.write(`url: ${status.info.url}\n`);
      if (status.info?.linux) process.stdout.write(`mount with: ${status.info.linux}\n`);
      if (status.info?.access) process.stdout.write(`access: ${status.info.access}\n`);
      return 0;
    }
    process.stderr.write(`berth: could not mount ${describeGuest(status.spec.guest)} at ${mountTarget(status.spec.host)}: ${status.error ? describeError(status.error) : status.state}\n`);
    // A mount the user asked for by hand that failed is not kept retrying in the background,
    // and a saved mount it was meant to replace keeps the spec it had (nothing is lost).
    if (created) await client.remove(status.id, 'immediate').catch(() => undefined);
    else if (existing) {
      await client.unmount(status.id, 'immediate').catch(() => undefined);
      const { id: _id, ...previous } = existing.spec;
      await client.update(existing.id, previous).catch(() => undefined);
    }
    return 1;
  } catch (err) {
    if (err instanceof ApiError && err.info.kind === 'Conflict') {
      process.stderr.write(`berth: ${err.info.message}\n${err.info.hint ? `hint: ${err.info.hint}\n` : ''}`);
      return 1;
    }
    return printError(err);
  }
}
