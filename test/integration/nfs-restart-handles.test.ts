import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MountInput } from '../../src-shared/mountSpec.ts';
import { NfsClient } from '../../src-main/nfs/client/NfsClient.ts';
import { NfsProc, Nfsstat3, StableHow } from '../../src-main/nfs/nfs3/constants.ts';
import { berthSandbox, missingLauncher, waitFor, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { unusedPort } from '../helpers/ports.ts';
import { callBody, RawRpc } from '../helpers/rawRpc.ts';

// An NFS client that mounted an export of Berth's keeps it when Berth restarts (a daemon
// restarted, a login that restores the mount table). The export's root handle and fsid
// stay the same in every run, so the client still reaches the root without mounting again.
// A daemon that stops cleanly hands each export's handle table (on a fixed port) to the
// next run, so every handle a client holds still works, a shell's folder or an open file
// too. So does one that crashes (killed), through the journal it keeps of its table as it
// changes: a handle follows the renames made through it before the crash, and one of a
// file removed then answers NFS3ERR_STALE, never with another file's attributes. Through
// the daemon, the way a mount comes back at login.

const skip = missingLauncher();
const cred = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

/** The fsid and fileid of `fh`, from a raw GETATTR (Berth's client does not keep the fsid). */
async function ids(port: number, fh: Buffer): Promise<{ fsid: bigint; fileid: bigint }> {
  const rpc = new RawRpc(port);
  try {
    await rpc.ready();
    rpc.send(callBody(1, 100003, 3, NfsProc.GETATTR, (w) => w.opaque(fh)));
    const { stat, r } = await rpc.accepted(1);
    expect(stat).toBe(0);
    expect(r.uint32()).toBe(Nfsstat3.OK);
    r.skip(4 * 5 + 8 * 3); // type, mode, nlink, uid, gid; size, used, rdev
    return { fsid: r.uint64(), fileid: r.uint64() };
  } finally {
    rpc.close();
  }
}

describe.skipIf(skip)('NFS handles over a restart of Berth', () => {
  let sb: BerthSandbox;
  const clients: NfsClient[] = [];
  beforeEach(async () => {
    sb = await berthSandbox();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => {});
    await sb.cleanup();
  });

  const client = (port: number): NfsClient => {
    const c = new NfsClient({ host: '127.0.0.1', port, cred });
    clients.push(c);
    return c;
  };

  /** Stops the daemon (SIGTERM: cleanly; SIGKILL: a crash), starts another and waits until mount `id` is served again. */
  async function restart(first: Awaited<ReturnType<BerthSandbox['startDaemon']>>, id: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    first.child.kill(signal);
    const code = await first.exited;
    if (signal === 'SIGTERM') expect(code).toBe(0);
    await sb.startDaemon();
    await waitFor(async () => (await sb.client.get(id)).state === 'mounted', 20_000, 'the NFS export to come back by itself');
  }

  /** A local folder with a.txt and b.txt served on a fixed port by a daemon (read-only unless `writable`); a client's root and a.txt handles. */
  async function served(writable = false): Promise<{ port: number; id: string; daemon: Awaited<ReturnType<BerthSandbox['startDaemon']>>; root: Buffer; a: Buffer; rootIds: { fsid: bigint; fileid: bigint } }> {
    const src = await sb.dir('src');
    await writeFile(join(src, 'a.txt'), 'alpha\n');
    await writeFile(join(src, 'b.txt'), 'beta\n');
    const port = await unusedPort();
    const daemon = await sb.startDaemon();
    const host = { kind: 'nfs' as const, listen: `/ip4/127.0.0.1/tcp/${port}`, ...(writable ? { readOnly: false, rootSquash: false } : {}) };
    const added = await sb.client.add({ name: 'share', host, guest: { kind: 'local', path: src } });
    expect(added.state).toBe('mounted');
    const before = client(port);
    const root = await before.mount('/');
    // a.txt is the first name this run hands out a handle for.
    const a = (await before.lookup(root, 'a.txt')).fh;
    return { port, id: added.id, daemon, root, a, rootIds: await ids(port, root) };
  }

  it('keeps every handle over a clean restart: the root, its fsid, and a file looked up before', async () => {
    const { port, id, daemon, root, a, rootIds } = await served();
    await restart(daemon, id, 'SIGTERM');

    const after = client(port);
    // The handles from before the restart, with no MNT and no LOOKUP in between.
    expect(await ids(port, root)).toEqual(rootIds);
    expect((await after.getattr(a)).size).toBe('alpha\n'.length);
    const got = await after.read(a, 0, 100);
    expect(got.data.toString()).toBe('alpha\n');
    got.release();
    // A name looked up for the first time gets an id of its own, not one handed out before.
    const b = await after.lookup(root, 'b.txt');
    expect(b.fh.equals(a)).toBe(false);
    expect((await after.getattr(b.fh)).size).toBe('beta\n'.length);
  });

  it('after a crash keeps every handle: renamed ones follow, removed ones are STALE, new names get new ids', async () => {
    const { port, id, daemon, root, a, rootIds } = await served(true);
    const before = client(port);
    const b = (await before.lookup(root, 'b.txt')).fh;
    const sub = await before.mkdir(root, 'sub', 0o755);
    const c = await before.create(sub!.fh, 'c.txt', 0o644);
    await before.write(c!.fh, 0, Buffer.from('gamma\n'), StableHow.FILE_SYNC);
    await before.rename(root, 'b.txt', sub!.fh, 'moved.txt');
    const gone = await before.create(root, 'gone.txt', 0o644);
    await before.remove(root, 'gone.txt');
    // Killed, the way a crash ends it: no snapshot is written.
    await restart(daemon, id, 'SIGKILL');

    const after = client(port);
    expect(await ids(port, root)).toEqual(rootIds);
    // Every handle from before, with no MNT and no LOOKUP in between.
    const read = async (fh: Buffer): Promise<string> => {
      const got = await after.read(fh, 0, 100);
      try {
        return got.data.toString();
      } finally {
        got.release();
      }
    };
    expect(await read(a)).toBe('alpha\n');
    expect(await read(b)).toBe('beta\n'); // renamed to sub/moved.txt before the crash
    expect(await read(c!.fh)).toBe('gamma\n');
    expect((await after.getattr(sub!.fh)).type).toBe('dir');
    await expect(after.getattr(gone!.fh)).rejects.toMatchObject({ status: Nfsstat3.STALE });
    // A name made after the restart in the removed one's place is another file, with a handle of its own.
    const again = await after.create(root, 'gone.txt', 0o644);
    for (const old of [a, b, c!.fh, sub!.fh, gone!.fh]) expect(again!.fh.equals(old)).toBe(false);
    await expect(after.getattr(gone!.fh)).rejects.toMatchObject({ status: Nfsstat3.STALE });
  });

  it('a root handle of another export is STALE on a port that now serves something else', async () => {
    const port = await unusedPort();
    await sb.startDaemon();
    const spec: MountInput = { name: 'share', host: { kind: 'nfs', listen: `/ip4/127.0.0.1/tcp/${port}` }, guest: { kind: 'local', path: await sb.dir('one') } };
    const added = await sb.client.add(spec);
    const root = await client(port).mount('/');

    // Edited while mounted: served again, on the same port, from another folder.
    await sb.client.update(added.id, { ...spec, guest: { kind: 'local', path: await sb.dir('two') } });
    await waitFor(async () => (await sb.client.get(added.id)).state === 'mounted', 20_000, 'the edited export to be served');

    await expect(client(port).getattr(root)).rejects.toMatchObject({ status: Nfsstat3.STALE });
  });
});
