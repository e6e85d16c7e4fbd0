import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NfsGuest } from '../../src-main/guests/nfs.ts';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { nfsHost } from '../../src-main/hosts/nfs.ts';
import type { MountedHost } from '../../src-main/hosts/types.ts';
import { MOUNT_PROGRAM, MOUNT_V3, MountProc } from '../../src-main/nfs/nfs3/constants.ts';
import { AuthStat, decodeReplyBody } from '../../src-main/nfs/rpc/messages.ts';
import type { Vfs } from '../../src-main/vfs/types.ts';
import { hasCommand, missingPeer } from '../helpers/peers.ts';
import { callBody, RawRpc } from '../helpers/rawRpc.ts';

// Issue 9, finding 1: the NFS host ignored AUTH_SYS, so any local account reached the
// whole export with the server's (root's) rights. Here the server runs as root in this
// process and libnfs' tools run as nobody (uid 65534, an unprivileged source port), as
// root (squashed to nobody by default), and our own client sends chosen credentials.

const NOBODY = 65534;

function run(cmd: string, args: string[], asNobody = false): Promise<{ code: number; out: string; err: string }> {
  const [file, argv] = asNobody ? ['runuser', ['-u', 'nobody', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve) => {
    execFile(file, argv, { encoding: 'utf8', timeout: 30_000 }, (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
  });
}

const skip =
  missingPeer('libnfs-utils', () => hasCommand('nfs-cat') && hasCommand('nfs-cp'), 'apt-get install libnfs-utils') ??
  missingPeer('root and runuser', () => process.getuid?.() === 0 && hasCommand('runuser'), 'the test runs libnfs as uid 65534 with runuser, as root');

describe.skipIf(skip)('issue 9: the NFS host enforces AUTH_SYS credentials', () => {
  let base: string;
  let exp: string;
  let src: string;
  const guests: Vfs[] = [];
  const hosts: MountedHost[] = [];
  let rw: MountedHost;
  const url = (m: MountedHost, path: string): string => `nfs://127.0.0.1${path}?version=3&nfsport=${m.info!.port}&mountport=${m.info!.port}`;
  const serve = async (opts: Parameters<typeof nfsHost.mount>[2]): Promise<MountedHost> => {
    const g = await openLocalGuest({ kind: 'local', path: exp, readOnly: false });
    guests.push(g);
    const h = await nfsHost.mount(g, '/ip4/127.0.0.1/tcp/0', { onError: () => {}, ...opts });
    hosts.push(h);
    return h;
  };
  const client = async (m: MountedHost, uid: number, gid: number): Promise<NfsGuest> => {
    const c = await NfsGuest.open({ kind: 'nfs', server: m.target, export: '/', uid, gid });
    guests.push(c);
    return c;
  };
  const opts = () => ({ signal: AbortSignal.timeout(20_000) });

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'berth-issue9-auth-'));
    chmodSync(base, 0o755);
    exp = join(base, 'export');
    mkdirSync(exp, { mode: 0o755 });
    writeFileSync(join(exp, 'secret'), 'top secret\n', { mode: 0o600 });
    writeFileSync(join(exp, 'public'), 'hello\n', { mode: 0o644 });
    mkdirSync(join(exp, 'rootdir'), { mode: 0o755 });
    mkdirSync(join(exp, 'drop'));
    chmodSync(join(exp, 'drop'), 0o777);
    mkdirSync(join(exp, 'sticky'));
    chmodSync(join(exp, 'sticky'), 0o1777);
    writeFileSync(join(exp, 'sticky', 'rootfile'), 'mine\n', { mode: 0o666 });
    chmodSync(join(exp, 'sticky', 'rootfile'), 0o666);
    // A file nobody may read as the source of nfs-cp.
    src = join(base, 'upload.txt');
    writeFileSync(src, 'uploaded by nobody\n', { mode: 0o644 });
    rw = await serve({ readOnly: false });
  });

  afterAll(async () => {
    for (const h of hosts) await h.unmount().catch(() => {});
    for (const g of guests) await g.close().catch(() => {});
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('nobody cannot nfs-cat a root-owned 0600 file, and can read a 0644 one', async () => {
    const secret = await run('nfs-cat', [url(rw, '//secret')], true);
    expect(secret.code).not.toBe(0);
    expect(secret.out).not.toContain('top secret');
    const pub = await run('nfs-cat', [url(rw, '//public')], true);
    expect(pub).toMatchObject({ code: 0, out: 'hello\n' });
  });

  it('nobody cannot nfs-cp into a root-owned 0755 folder; into a 0777 one it can, and owns the file', async () => {
    const refused = await run('nfs-cp', [src, url(rw, '/rootdir/x')], true);
    expect(refused.code).not.toBe(0);
    expect(existsSync(join(exp, 'rootdir', 'x'))).toBe(false);
    const ok = await run('nfs-cp', [src, url(rw, '/drop/x')], true);
    expect(ok.code, ok.err).toBe(0);
    const st = statSync(join(exp, 'drop', 'x'));
    expect({ uid: st.uid, gid: st.gid }).toEqual({ uid: NOBODY, gid: NOBODY });
    // The new owner can read it back (and nobody else's secret stays refused).
    expect(await run('nfs-cat', [url(rw, '/drop/x')], true)).toMatchObject({ code: 0, out: 'uploaded by nobody\n' });
  });

  it('squashes root to nobody by default, and lets root in with root squash off', async () => {
    expect((await run('nfs-cat', [url(rw, '//secret')])).code).not.toBe(0);
    const trusting = await serve({ readOnly: false, rootSquash: false });
    expect(await run('nfs-cat', [url(trusting, '//secret')])).toMatchObject({ code: 0, out: 'top secret\n' });
  });

  it('answers ACCES and PERM to our own client sending uid 65534', async () => {
    const c = await client(rw, NOBODY, NOBODY);
    await expect(c.open('/secret', {}, opts()).then((h) => h.read(0, 10, opts()))).rejects.toMatchObject({ kind: 'Permission' });
    await expect(c.mkdir!('/rootdir/d', 0o755, opts())).rejects.toMatchObject({ kind: 'Permission' });
    await expect(c.unlink!('/public', opts())).rejects.toMatchObject({ kind: 'Permission' });
    // Sticky folder: writable by all, but only the owner may remove an entry (EPERM).
    await expect(c.unlink!('/sticky/rootfile', opts())).rejects.toMatchObject({ kind: 'NotPermitted' });
    await expect(c.rename!('/sticky/rootfile', '/sticky/stolen', opts())).rejects.toMatchObject({ kind: 'NotPermitted' });
    // chmod and chown of someone else's file.
    await expect(c.setattr!('/public', { mode: 0o666 }, opts())).rejects.toMatchObject({ kind: 'NotPermitted' });
    await expect(c.setattr!('/public', { uid: NOBODY }, opts())).rejects.toMatchObject({ kind: 'NotPermitted' });
    expect(statSync(join(exp, 'public')).mode & 0o7777).toBe(0o644);
    expect(existsSync(join(exp, 'sticky', 'rootfile'))).toBe(true);
    // What the modes allow still works: its own file in the sticky folder, created, chmod-ed, removed.
    const h = await c.create!('/sticky/mine', 0o600, opts());
    await h.close();
    expect(statSync(join(exp, 'sticky', 'mine'))).toMatchObject({ uid: NOBODY, gid: NOBODY });
    await c.setattr!('/sticky/mine', { mode: 0o640 }, opts());
    expect(statSync(join(exp, 'sticky', 'mine')).mode & 0o7777).toBe(0o640);
    await expect(c.setattr!('/sticky/mine', { uid: 0 }, opts())).rejects.toMatchObject({ kind: 'NotPermitted' });
    await c.unlink!('/sticky/mine', opts());
  });

  it('refuses AUTH_NONE on a writable export with an RPC auth error', async () => {
    const raw = new RawRpc(Number(rw.info!.port));
    await raw.ready();
    raw.send(callBody(7, MOUNT_PROGRAM, MOUNT_V3, MountProc.MNT, (w) => w.string('/'), { cred: { flavor: 0 } }));
    const r = await raw.reply(7);
    raw.close();
    r!.uint32(); // REPLY
    expect(decodeReplyBody(7, r!)).toEqual({ xid: 7, accepted: false, reject: 1, detail: AuthStat.AUTH_TOOWEAK });
  });

  it('with a reserved port required, refuses nobody calling from an unprivileged port', async () => {
    const strict = await serve({ readOnly: false, reservedPort: true, rootSquash: false });
    const r = await run('nfs-cat', [url(strict, '//public')], true);
    expect(r.code).not.toBe(0);
    expect(r.out).toBe('');
  });
});
