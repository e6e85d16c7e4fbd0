import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { access, constants, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonStart } from '../../src-main/api/daemon.ts';
import { ApiClient, ApiError } from '../../src-main/api/client.ts';
import { serviceClient } from '../../src-main/api/serviceClient.ts';
import { fileManagerMenuFiles } from '../../src-main/service/fileManagerMenu.ts';
import type { BerthService } from '../../src-shared/bridge.ts';
import { BridgeError } from '../../src-shared/bridge.ts';
import { berthSandbox, LAUNCHER, missingLauncher, waitFor, type BerthSandbox, type DaemonProcess } from '../helpers/berthDaemon.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { sharedIpfsPeer, type SharedIpfsPeer } from '../helpers/sharedPeers.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

// The API the desktop faces stand on (issue 7): browsing a mount through its guest,
// Copy CID / Copy gateway link for any entry, the node status line, the clipboard route
// behind `berth cid --copy`, the file manager menu, and the browser UI served at "/".

const run = promisify(execFile);
const skip = missingLauncher() ?? missingFuse() ?? missingIpfsPeer();

/** What an ApiError or a rejected call says, as {status, kind, message, hint}. */
async function failure(p: Promise<unknown>): Promise<{ status?: number; kind: string; message: string; hint?: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, ...err.info };
    if (err instanceof BridgeError) return err.info;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe.skipIf(skip)('API for the desktop faces', () => {
  let sb: BerthSandbox;
  let peer: SharedIpfsPeer;
  let daemon: DaemonProcess;
  let svc: BerthService;
  let ui: { port: number; token: string };
  const cids: Record<string, string> = {};
  let ipfsId: string;
  let localId: string;
  let ipfsMp: string;

  beforeAll(async () => {
    sb = await berthSandbox();
    sb.env.XDG_DATA_HOME = join(sb.base, 'data');
    peer = await sharedIpfsPeer();
    for await (const e of peer.client.addAll(
      [
        { path: 'site/hello.txt', content: new TextEncoder().encode('hello from IPFS\n') },
        { path: 'site/docs/readme.md', content: new TextEncoder().encode('# read me\n') },
      ],
      { cidVersion: 1, rawLeaves: true },
    )) {
      cids[e.path] = e.cid.toString();
    }
    daemon = await sb.startDaemon(['--ui', '127.0.0.1:0']);
    const m = await waitFor(() => /Berth in your browser: http:\/\/127\.0\.0\.1:(\d+)\/#token=(\S+)/.exec(daemon.output()), 10_000, 'the UI line');
    ui = { port: Number(m[1]), token: m[2]! };
    svc = serviceClient({ socketPath: sb.socketPath });
    ipfsMp = await sb.dir('mnt-site');
    const ipfs = await svc.addMount({ spec: { name: 'Site', host: { kind: 'fuse', mountpoint: ipfsMp }, guest: { kind: 'ipfs', root: `/ipfs/${cids.site}`, node: peer.apiMultiaddr } } });
    expect(ipfs.state, JSON.stringify(ipfs.error)).toBe('mounted');
    ipfsId = ipfs.id;
    const folder = await sb.dir('share');
    await writeFile(join(folder, 'a.txt'), 'local bytes');
    const local = await svc.addMount({ spec: { name: 'Share', host: { kind: 'fuse', mountpoint: await sb.dir('mnt-share') }, guest: { kind: 'local', path: folder } } });
    expect(local.state, JSON.stringify(local.error)).toBe('mounted');
    localId = local.id;
  });
  afterAll(async () => {
    await sb?.cleanup();
    expect(fuseMounts().filter((mp) => sb && mp.startsWith(sb.base))).toEqual([]);
  });

  it('browses a mount through its guest: names, sizes and the peer\'s CIDs', async () => {
    const root = await svc.browse({ id: ipfsId });
    expect(root.cid).toBe(cids.site);
    expect(root.more).toBe(false);
    expect(root.entries.map((e) => [e.name, e.type, e.cid])).toEqual([
      ['docs', 'dir', cids['site/docs']],
      ['hello.txt', 'file', cids['site/hello.txt']],
    ]);
    expect(root.entries.find((e) => e.name === 'hello.txt')!.size).toBe(16);
    const docs = await svc.browse({ id: ipfsId, path: '/docs' });
    expect(docs.entries.map((e) => e.name)).toEqual(['readme.md']);
    const page = await svc.browse({ id: ipfsId, limit: 1 });
    expect([page.entries.length, page.more]).toEqual([1, true]);
    const local = await svc.browse({ id: localId });
    expect(local.entries.map((e) => [e.name, e.size, e.cid])).toEqual([['a.txt', 11, undefined]]);
  });

  it('refuses to browse what is not a folder, a bad path, or an unmounted mount, saying why', async () => {
    expect(await failure(svc.browse({ id: ipfsId, path: '/hello.txt' }))).toMatchObject({ status: 400, kind: 'NotDir' });
    expect(await failure(svc.browse({ id: ipfsId, path: '/../etc' }))).toMatchObject({ message: expect.stringContaining('no "..", "."') });
    const raw = await fetch(`http://127.0.0.1:${ui.port}/v1/mounts/${ipfsId}/browse`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ path: 'relative', limit: 0 }),
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { message: string } }).error.message).toMatch(/path.*starting with "\/".*limit/s);
    expect(await failure(svc.browse({ id: 'm_nope' }))).toMatchObject({ status: 404, kind: 'NotFound' });
  });

  it('gives CIDs and share links for any entry, in every form', async () => {
    const file = await svc.entryLink({ id: ipfsId, path: '/hello.txt' });
    expect(file.cid).toBe(cids['site/hello.txt']);
    expect(file.link).toBe(`http://127.0.0.1:8080/ipfs/${cids['site/hello.txt']}?filename=hello.txt`);
    expect(file.native).toBe(`ipfs://${cids['site/hello.txt']}`);
    const sub = await svc.entryLink({ id: ipfsId, path: '/docs', form: 'subdomain', gateway: 'https://dweb.link' });
    expect(sub.link).toBe(`https://${cids['site/docs']}.ipfs.dweb.link/`);
    expect(await failure(svc.entryLink({ id: localId, path: '/a.txt' }))).toMatchObject({ status: 404, message: expect.stringContaining('local mounts do not give content IDs') });
  });

  it('knows the root CID of an unmounted IPFS mount without the node', async () => {
    await svc.unmount({ id: ipfsId });
    expect((await svc.entryLink({ id: ipfsId })).cid).toBe(cids.site);
    expect(await failure(svc.browse({ id: ipfsId }))).toMatchObject({ status: 503, kind: 'Unavailable', hint: 'mount it to browse its files' });
    expect((await svc.mount({ id: ipfsId })).state).toBe('mounted');
  });

  it('reports the IPFS node: reachable with its agent, or why not and what to do', async () => {
    await svc.updateSettings({ ipfsNode: peer.apiMultiaddr });
    const up = await svc.nodeStatus();
    expect(up).toMatchObject({ address: peer.apiMultiaddr, source: 'settings', reachable: true });
    expect(up.agent).toMatch(/ipfs/);
    await svc.updateSettings({ ipfsNode: '/ip4/127.0.0.1/tcp/9' });
    const down = await svc.nodeStatus();
    expect(down).toMatchObject({ reachable: false, error: { kind: 'Unavailable', hint: expect.stringContaining('start Kubo') } });
  });

  it('the clipboard route needs the desktop app; `berth cid --copy` prints the CID and says why it did not copy', async () => {
    expect(await failure(svc.writeClipboard({ text: 'x' }))).toMatchObject({ status: 503, kind: 'Unavailable', message: expect.stringContaining('desktop app is not running') });
    const r = await sb.run(['cid', '--copy', join(ipfsMp, 'hello.txt'), join(ipfsMp, 'docs')]);
    expect(r.stdout).toBe(`${cids['site/hello.txt']}\n${cids['site/docs']}\n`);
    expect(r.stderr).toMatch(/not copied: the Berth desktop app is not running/);
    expect(r.code).toBe(1);
  });

  it('adds and removes the file manager menu; its script runs `berth cid --copy` on the selection', async () => {
    const files = fileManagerMenuFiles(sb.env);
    await svc.updateSettings({ fileManagerMenu: true });
    for (const f of Object.values(files)) {
      expect((await stat(f)).mode & 0o777).toBe(0o755);
      expect(await readFile(f, 'utf8')).toContain(LAUNCHER);
    }
    expect(await readFile(files.dolphin, 'utf8')).toMatch(/Exec=.* cid --copy -- %F/);
    // Run as Nautilus does: the selection one path per line.
    const res = await run('sh', [files.nautilusCid], { env: { ...sb.env, NAUTILUS_SCRIPT_SELECTED_FILE_PATHS: `${join(ipfsMp, 'hello.txt')}\n` } }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(cids['site/hello.txt']);
    expect(res.stderr).toContain('desktop app is not running');
    // A user's own script of the same name is never removed.
    await svc.updateSettings({ fileManagerMenu: false });
    for (const f of Object.values(files)) await expect(access(f, constants.F_OK)).rejects.toThrow();
    await writeFile(files.nautilusCid, '#!/bin/sh\necho mine\n');
    await svc.updateSettings({ fileManagerMenu: true });
    await svc.updateSettings({ fileManagerMenu: false });
    await expect(access(files.nautilusCid, constants.F_OK)).rejects.toThrow();
    await writeFile(files.nautilusCid, '#!/bin/sh\necho mine\n');
    await svc.updateSettings({ fileManagerMenu: false });
    expect(await readFile(files.nautilusCid, 'utf8')).toContain('mine');
  });

  it('dismisses notices by id and refuses unknown ones', async () => {
    expect(await failure(svc.dismissNotice({ id: 'n_0000' }))).toMatchObject({ status: 404, kind: 'NotFound' });
    expect(await failure(svc.dismissNotice({ id: '../x' }))).toMatchObject({ message: expect.stringContaining('expected a notice id') });
  });

  it('serves the browser UI at / without the token, with a strict CSP; the API still needs the token', async () => {
    const base = `http://127.0.0.1:${ui.port}`;
    const page = await fetch(`${base}/`);
    expect(page.status === 200 || page.status === 503).toBe(true);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect((await fetch(`${base}/nope.js`)).status).toBe(404);
    const api = await fetch(`${base}/v1/info`);
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { message: string } }).error.message).toContain('#token=');
    // fetch cannot set Host; a DNS-rebinding page's request looks like this one.
    const evil = await new Promise<number>((res, rej) =>
      request({ host: '127.0.0.1', port: ui.port, path: '/', headers: { host: `evil.example:${ui.port}` } }, (r) => {
        r.resume();
        res(r.statusCode ?? 0);
      })
        .on('error', rej)
        .end(),
    );
    expect(evil).toBe(403);
    const info = await new ApiClient({ baseUrl: base, token: ui.token }).info();
    expect(info).toMatchObject({ servedBy: 'daemon', ui: base, defaultMountFolder: expect.stringMatching(/\/Berth$/) });
  });
});

describe.skipIf(skip)('the desktop app writes the clipboard for `berth cid --copy`', () => {
  let base: string;
  let d: DaemonStart | undefined;
  let peer: SharedIpfsPeer;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'berth-app-'));
    peer = await sharedIpfsPeer();
  });
  afterAll(async () => {
    if (d?.kind === 'started') await d.stop('immediate');
    for (const mp of fuseMounts()) if (mp.startsWith(base)) await run('fusermount', ['-uz', mp]).catch(() => undefined);
    await rm(base, { recursive: true, force: true });
  });

  it('copies what the CLI printed through the app\'s clipboard hook', async () => {
    const copied: string[] = [];
    // The CLI finds the socket at $XDG_RUNTIME_DIR/berth/api.sock.
    const runtimeDir = join(base, 'berth');
    await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
    // The service exactly as the Electron app starts it, with a clipboard of its own.
    d = await startDaemon({ runtimeDir, configDir: join(base, 'config'), servedBy: 'app', clipboard: (t) => void copied.push(t), log: () => undefined });
    expect(d.kind).toBe('started');
    if (d.kind !== 'started') return;
    const { cid } = await peer.client.add(new TextEncoder().encode('copy me\n'), { cidVersion: 1 });
    const mp = join(base, 'mnt');
    await mkdir(mp);
    const m = await d.service.addMount({ spec: { host: { kind: 'fuse', mountpoint: mp }, guest: { kind: 'ipfs', node: peer.apiMultiaddr } } });
    expect(m.state).toBe('mounted');
    // The CLI child stats the path through our own FUSE mount: keep this event loop free (async execFile).
    const ok = await run(process.execPath, [LAUNCHER, 'link', '--copy', join(mp, cid.toString())], { env: { ...process.env, XDG_RUNTIME_DIR: base, NODE_OPTIONS: '' } });
    const link = `http://127.0.0.1:8080/ipfs/${cid.toString()}`;
    expect(ok.stdout).toBe(`${link}\n`);
    expect(ok.stderr).toContain('copied to the clipboard');
    expect(copied).toEqual([link]);
    expect((await d.service.info()).servedBy).toBe('app');
  });
});
