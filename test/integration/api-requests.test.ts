import { readFile, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MountInput } from '../../src-shared/mountSpec.ts';
import { checkStoreText } from '../../src-main/service/MountStore.ts';
import { berthSandbox, missingLauncher, waitFor, type BerthSandbox, type DaemonProcess } from '../helpers/berthDaemon.ts';

// The control API as a client sees it: a real daemon process, its unix socket and its
// loopback TCP listener. Bad requests get a 4xx with a message and never harm the daemon.

interface Answer {
  status: number;
  body: string;
  json: { error?: { kind: string; message: string } } & Record<string, unknown>;
}

function raw(
  target: { socketPath: string } | { port: number },
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const where = 'socketPath' in target ? { socketPath: target.socketPath } : { host: '127.0.0.1', port: target.port };
    const req = request({ ...where, method, path, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = {};
        try {
          json = JSON.parse(text);
        } catch {
          // Left empty: the test asserts on status/body.
        }
        resolve({ status: res.statusCode ?? 0, body: text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A well-behaved client: sends a chunked body in 1 MiB writes until the response arrives,
 * then ends the body (the zero-length last chunk) instead of sending the rest.
 * (Node's client emits no 'drain' once the response has ended, so it cannot keep going.)
 */
function politeUpload(socketPath: string, total: number): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let status = 0;
    const req = request({ socketPath, method: 'POST', path: '/v1/mounts', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.once('end', () => req.end());
    });
    req.on('error', reject);
    req.on('close', () => resolve({ status }));
    const pump = (): void => {
      while (status === 0 && sent < total) {
        sent += 1024 * 1024;
        if (!req.write(Buffer.alloc(1024 * 1024, 0x20))) return void req.once('drain', pump);
      }
      if (status === 0) req.end();
    };
    pump();
  });
}

/**
 * A client that ignores the answer: raw HTTP/1.1 over the socket, a chunked body of
 * `total` bytes written whatever comes back. Settles when the connection closes, with
 * what it read and the first socket error (if any) and whether the status came first.
 */
function rudeUpload(socketPath: string, total: number): Promise<{ text: string; error?: string; statusFirst: boolean }> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    let text = '';
    let error: string | undefined;
    let statusFirst = true;
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('error', (err: NodeJS.ErrnoException) => {
      error ??= err.code ?? err.message;
      if (!text.startsWith('HTTP/1.1 ')) statusFirst = false;
    });
    s.on('close', () => resolve({ text, ...(error !== undefined ? { error } : {}), statusFirst }));
    s.write('POST /v1/mounts HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
    const chunk = Buffer.concat([Buffer.from('100000\r\n'), Buffer.alloc(0x100000, 0x20), Buffer.from('\r\n')]);
    let sent = 0;
    const pump = (): void => {
      while (sent < total && s.writable) {
        sent += 0x100000;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      if (s.writable) s.end('0\r\n\r\n');
    };
    pump();
  });
}

const skip = missingLauncher();

describe.skipIf(skip)('control API', () => {
  let sb: BerthSandbox;
  let daemon: DaemonProcess;
  let port: number;
  let token: string;
  const sock = () => ({ socketPath: sb.socketPath });
  const spec = (mp: string): MountInput => ({ host: { kind: 'fuse', mountpoint: mp }, guest: { kind: 'local', path: '/srv' } });

  beforeAll(async () => {
    sb = await berthSandbox();
    daemon = await sb.startDaemon(['--ui', '127.0.0.1:0']);
    // The API socket can answer a moment before the daemon prints its UI line.
    const m = await waitFor(() => /Berth in your browser: http:\/\/127\.0\.0\.1:(\d+)\/#token=(\S+)/.exec(daemon.output()), 10_000, 'the UI line in the daemon output').catch(() => null);
    expect(m, daemon.output()).toBeTruthy();
    port = Number(m![1]);
    token = m![2]!;
  });
  afterAll(async () => {
    await sb?.cleanup();
  });

  it('puts its socket at mode 0600 in a 0700 folder', async () => {
    expect((await stat(sb.socketPath)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(sb.socketPath))).mode & 0o777).toBe(0o700);
  });

  it('answers bad requests with 4xx and a message, never a stack trace', async () => {
    const cases: [string, Promise<Answer>, number, RegExp][] = [
      ['invalid JSON', raw(sock(), 'POST', '/v1/mounts', '{"spec": '), 400, /not valid JSON/],
      ['unknown guest kind', raw(sock(), 'POST', '/v1/mounts', JSON.stringify({ spec: { host: { kind: 'fuse', mountpoint: '/mnt/x' }, guest: { kind: 'ftp' } } })), 400, /guest/],
      ['unknown host kind', raw(sock(), 'POST', '/v1/mounts', JSON.stringify({ spec: { host: { kind: 'smb' }, guest: { kind: 'local', path: '/srv' } } })), 400, /host/],
      ['missing mount point', raw(sock(), 'POST', '/v1/mounts', JSON.stringify({ spec: { host: { kind: 'fuse' }, guest: { kind: 'local', path: '/srv' } } })), 400, /host\.mountpoint/],
      ['relative mount point', raw(sock(), 'POST', '/v1/mounts', JSON.stringify({ spec: spec('mnt/x') })), 400, /absolute path/],
      ['not an object', raw(sock(), 'POST', '/v1/mounts', '[1,2,3]'), 400, /invalid request/],
      ['unknown field', raw(sock(), 'POST', '/v1/mounts', JSON.stringify({ spec: spec('/mnt/y'), evil: true })), 400, /evil|Unrecognized/i],
      ['path traversal in an id', raw(sock(), 'GET', '/v1/mounts/..%2F..%2Fetc%2Fpasswd'), 400, /invalid mount id/],
      // The URL parser folds %2e%2e into "..", so this one never reaches a mount route.
      ['dot-dot id', raw(sock(), 'DELETE', '/v1/mounts/%2e%2e'), 404, /no such API path/],
      ['dot-dot id with an action', raw(sock(), 'POST', '/v1/mounts/..%2f..%2ftmp/mount'), 400, /invalid mount id/],
      ['traversal out of /v1', raw(sock(), 'GET', '/v1/mounts/../../etc/passwd'), 404, /no such API path/],
      ['unknown id', raw(sock(), 'GET', '/v1/mounts/m_doesnotexist'), 404, /no mount with id/],
      ['unknown route', raw(sock(), 'GET', '/v2/whatever'), 404, /no such API path/],
      ['wrong method', raw(sock(), 'DELETE', '/v1/mounts'), 405, /not allowed/],
      ['bad shutdown level', raw(sock(), 'POST', '/v1/shutdown', JSON.stringify({ level: 'eventually' })), 400, /shutdown level/],
      ['bad settings', raw(sock(), 'PUT', '/v1/settings', JSON.stringify({ gateway: 'ftp://x' })), 400, /gateway/],
      ['resolve outside a mount', raw(sock(), 'POST', '/v1/resolve', JSON.stringify({ path: '/etc/passwd' })), 404, /not inside a mounted Berth/],
      ['wrong content type', raw(sock(), 'POST', '/v1/mounts', 'spec=1', { 'content-type': 'application/x-www-form-urlencoded' }), 415, /JSON body/],
    ];
    for (const [what, p, status, message] of cases) {
      const a = await p;
      expect(a.status, `${what}: ${a.body}`).toBe(status);
      expect(a.json.error?.message, what).toMatch(message);
      expect(typeof a.json.error?.kind, what).toBe('string');
      expect(a.body, what).not.toMatch(/\n\s+at /);
    }
    expect((await sb.client.info()).pid).toBe(daemon.pid);
  });

  it('refuses a 10 MB body with 413 and keeps serving', async () => {
    // Declared up front: refused before the body is read; the body is still read and
    // dropped, so the client that sends all of it reads the 413 (no EPIPE).
    const a = await raw(sock(), 'POST', '/v1/mounts', Buffer.alloc(10 * 1024 * 1024, 0x20));
    expect(a.status).toBe(413);
    expect(a.json.error?.message).toMatch(/limit/);
    // Chunked (no length up front): refused once it passes the limit; a client that
    // stops sending on the answer reads it and the connection stays usable.
    const polite = await politeUpload(sb.socketPath, 10 * 1024 * 1024);
    expect(polite.status).toBe(413);
    // 64 MiB from a client that ignores the answer: past the server's bound the connection
    // is closed, which HTTP allows only after the status; it has arrived first.
    const rude = await rudeUpload(sb.socketPath, 64 * 1024 * 1024);
    expect(rude.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(rude.statusFirst, `socket error ${rude.error} before the status`).toBe(true);
    expect((await sb.client.info()).pid).toBe(daemon.pid);
  });

  it('refuses two mounts on one mount point (409)', async () => {
    const mp = await sb.dir('in-use');
    const first = await raw(sock(), 'POST', '/v1/mounts', JSON.stringify({ spec: spec(mp), mount: false }));
    expect(first.status).toBe(201);
    const second = await raw(sock(), 'POST', '/v1/mounts', JSON.stringify({ spec: spec(`${mp}/`), mount: false }));
    expect(second.status).toBe(409);
    expect(second.json.error?.kind).toBe('Conflict');
    expect(second.json.error?.message).toMatch(/already used by mount m_/);
    await sb.client.remove((first.json.mount as { id: string }).id);
  });

  it('keeps table and mounts.json consistent under 50 concurrent adds and removes', async () => {
    const before = await sb.client.list();
    const added = await Promise.all(Array.from({ length: 25 }, (_, i) => sb.client.add(spec(`/mnt/berth-c${i}`), { mount: false })));
    // 50 calls in flight at once: 25 removes racing 25 adds.
    await Promise.all([
      ...added.map((m) => sb.client.remove(m.id)),
      ...Array.from({ length: 25 }, (_, i) => sb.client.add(spec(`/mnt/berth-d${i}`), { mount: false })),
    ]);
    const ids = (await sb.client.list()).map((m) => m.id).sort();
    expect(ids).toHaveLength(before.length + 25);
    const file = checkStoreText(await readFile(`${sb.configDir}/mounts.json`, 'utf8'));
    expect(file.ok).toBe(true);
    expect(file.ok && file.data.mounts.map((m) => m.id).sort()).toEqual(ids);
    const backup = checkStoreText(await readFile(`${sb.configDir}/mounts.json.bak`, 'utf8'));
    expect(backup.ok && backup.data.mounts.map((m) => m.id).sort()).toEqual(ids);
    await Promise.all(ids.map((id) => sb.client.remove(id)));
    expect(await sb.client.list()).toEqual([]);
  });

  it('streams table changes as server-sent events', async () => {
    const seen: string[] = [];
    const stream = sb.client.events((name, data) => {
      seen.push(name === 'mount' ? `mount:${(data as { mount: { state: string } }).mount.state}` : name);
    });
    await waitFor(() => seen.includes('snapshot'), 30_000, 'the snapshot event');
    const m = await sb.client.add(spec('/mnt/berth-events'), { mount: false });
    await sb.client.remove(m.id);
    await waitFor(() => seen.includes('removed'), 30_000, 'the removed event');
    stream.close();
    expect(seen).toEqual(['snapshot', 'mount:unmounted', 'removed']);
  });

  describe('loopback TCP listener', () => {
    const tcp = () => ({ port });
    it('refuses a missing or wrong token', async () => {
      const none = await raw(tcp(), 'GET', '/v1/mounts', undefined, { host: `127.0.0.1:${port}` });
      expect(none.status).toBe(401);
      expect(none.json.error?.message).toMatch(/missing token/);
      const wrong = await raw(tcp(), 'GET', '/v1/mounts', undefined, { host: `127.0.0.1:${port}`, authorization: 'Bearer nope' });
      expect(wrong.status).toBe(401);
      const almost = await raw(tcp(), 'GET', '/v1/mounts', undefined, { host: `127.0.0.1:${port}`, authorization: `Bearer ${token.slice(0, -1)}x` });
      expect(almost.status).toBe(401);
    });
    it('refuses a foreign Host header or Origin even with the token (DNS rebinding)', async () => {
      const auth = { authorization: `Bearer ${token}` };
      expect((await raw(tcp(), 'GET', '/v1/mounts', undefined, { ...auth, host: `evil.example:${port}` })).status).toBe(403);
      expect((await raw(tcp(), 'GET', '/v1/mounts', undefined, { ...auth, host: '127.0.0.1:1' })).status).toBe(403);
      expect((await raw(tcp(), 'GET', '/v1/mounts', undefined, { ...auth, host: `127.0.0.1:${port}`, origin: 'http://evil.example' })).status).toBe(403);
    });
    it('lets an EventSource in with ?access_token= on the event stream only', async () => {
      const status = await new Promise<{ code: number; type: string; first: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: `/v1/events?access_token=${token}`, headers: { host: `127.0.0.1:${port}` } }, (res) => {
          res.setEncoding('utf8');
          res.once('data', (chunk: string) => {
            resolve({ code: res.statusCode ?? 0, type: String(res.headers['content-type']), first: chunk });
            req.destroy();
          });
        });
        req.on('error', reject);
        req.end();
      });
      expect(status.code).toBe(200);
      expect(status.type).toMatch(/text\/event-stream/);
      expect(status.first).toMatch(/^event: snapshot\ndata: \{/);
      const other = await raw(tcp(), 'GET', `/v1/mounts?access_token=${token}`, undefined, { host: `127.0.0.1:${port}` });
      expect(other.status).toBe(401);
    });
    it('serves the API with the right token and Host', async () => {
      const ok = await raw(tcp(), 'GET', '/v1/mounts', undefined, { host: `localhost:${port}`, authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      expect(Array.isArray(ok.json.mounts)).toBe(true);
    });
  });

  it('refuses to bind the UI listener to a non-loopback address', async () => {
    const r = await sb.run(['daemon', '--ui', '0.0.0.0:0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/only binds loopback/);
  });

  it('a second daemon finds the first and exits 0 with a message', async () => {
    const r = await sb.run(['daemon']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`already running \\(pid ${daemon.pid}`));
    expect((await sb.client.info()).pid).toBe(daemon.pid);
  });
});
