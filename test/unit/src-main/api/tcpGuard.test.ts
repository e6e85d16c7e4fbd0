import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateToken, makeTcpGuard, newToken, parseUiAddress } from '../../../../src-main/api/tcpGuard.ts';

describe('parseUiAddress', () => {
  it('accepts loopback addresses and a bare port', () => {
    expect(parseUiAddress('127.0.0.1:5050')).toEqual({ host: '127.0.0.1', port: 5050 });
    expect(parseUiAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseUiAddress('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseUiAddress('127.1.2.3:1')).toEqual({ host: '127.1.2.3', port: 1 });
    expect(parseUiAddress('5050')).toEqual({ host: '127.0.0.1', port: 5050 });
  });
  it('refuses anything that is not loopback, with a reason', () => {
    for (const bad of ['0.0.0.0:5050', '192.168.1.2:80', 'example.com:80', '[::]:80']) {
      expect(() => parseUiAddress(bad), bad).toThrow(/only binds loopback/);
    }
    for (const bad of ['', 'x', '127.0.0.1:99999', '127.0.0.1:-1', ':80:80']) {
      expect(() => parseUiAddress(bad), bad).toThrow(/invalid --ui/);
    }
  });
});

describe('makeTcpGuard', () => {
  const token = newToken();
  const guard = makeTcpGuard(5050, token);
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  const url = (p: string) => new URL(`http://berth.invalid${p}`);
  it('lets a request with the token and a loopback Host through', () => {
    expect(() => guard(req({ host: '127.0.0.1:5050', authorization: `Bearer ${token}` }), url('/v1/mounts'))).not.toThrow();
    expect(() => guard(req({ host: 'localhost:5050', authorization: `bearer ${token}`, origin: 'http://localhost:5050' }), url('/v1/mounts'))).not.toThrow();
    expect(() => guard(req({ host: 'localhost:5050' }), url(`/v1/events?access_token=${token}`))).not.toThrow();
  });
  it('refuses a missing or wrong token with 401', () => {
    expect(() => guard(req({ host: '127.0.0.1:5050' }), url('/v1/mounts'))).toThrow(expect.objectContaining({ status: 401 }));
    expect(() => guard(req({ host: '127.0.0.1:5050', authorization: 'Bearer x' }), url('/v1/mounts'))).toThrow(expect.objectContaining({ status: 401 }));
    // The query token is for EventSource only.
    expect(() => guard(req({ host: '127.0.0.1:5050' }), url(`/v1/mounts?access_token=${token}`))).toThrow(expect.objectContaining({ status: 401 }));
  });
  it('refuses a foreign Host or Origin with 403', () => {
    const auth = { authorization: `Bearer ${token}` };
    expect(() => guard(req({ ...auth, host: 'evil.example:5050' }), url('/v1/mounts'))).toThrow(expect.objectContaining({ status: 403 }));
    expect(() => guard(req({ ...auth }), url('/v1/mounts'))).toThrow(expect.objectContaining({ status: 403 }));
    expect(() => guard(req({ ...auth, host: '127.0.0.1:5050', origin: 'https://evil.example' }), url('/v1/mounts'))).toThrow(expect.objectContaining({ status: 403 }));
  });
});

describe('loadOrCreateToken', () => {
  it('makes a 0600 token file once and gives the same token to a restarted daemon', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-token-'));
    try {
      const file = join(dir, 'ui-token');
      const first = await loadOrCreateToken(file);
      expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await loadOrCreateToken(file)).toBe(first);
      // A damaged file is replaced, never used as a weak token.
      await writeFile(file, 'short\n');
      const next = await loadOrCreateToken(file);
      expect(next).not.toBe('short');
      expect((await readFile(file, 'utf8')).trim()).toBe(next);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
