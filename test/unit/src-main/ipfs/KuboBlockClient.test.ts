import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KuboBlockClient } from '../../../../src-main/ipfs/KuboBlockClient.ts';
import { unusedPort } from '../../../helpers/ports.ts';

// block/get over raw keep-alive sockets against node:http's server, which frames answers
// both ways the RPC peers do (Content-Length as js-ipfs, chunked as Kubo).

const o = (): AbortSignal => AbortSignal.timeout(5_000);
let server: Server | undefined;
let client: KuboBlockClient | undefined;

afterEach(async () => {
  client?.close();
  client = undefined;
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, url: URL) => void): Promise<string> {
  server = createServer((req, res) => handler(req, res, new URL(req.url ?? '/', 'http://x')));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('KuboBlockClient', () => {
  it('reads Content-Length and chunked answers byte for byte, over a few kept-alive connections', async () => {
    const blocks = new Map<string, Buffer>(Array.from({ length: 40 }, (_, i) => [`b${i}`, randomBytes(1000 + i * 9000)]));
    const sockets = new Set<unknown>();
    const url = await serve((req, res, u) => {
      sockets.add(req.socket);
      expect(req.method).toBe('POST');
      expect(u.pathname).toBe('/api/v0/block/get');
      const b = blocks.get(u.searchParams.get('arg') ?? '')!;
      const n = Number(u.searchParams.get('arg')!.slice(1));
      if (n % 2) {
        res.setHeader('Content-Length', b.length);
        res.end(b);
      } else {
        // chunked, in pieces of odd sizes
        for (let at = 0; at < b.length; at += 7777) res.write(b.subarray(at, at + 7777));
        res.end();
      }
    });
    client = new KuboBlockClient(url, { maxConnections: 3 });
    const got = await Promise.all([...blocks.keys()].map((k) => client!.get(k, o(), k === 'b2' ? 10 : 0)));
    [...blocks.values()].forEach((b, i) => expect({ i, ok: Buffer.from(got[i]!).equals(b) }).toEqual({ i, ok: true }));
    expect(sockets.size).toBeLessThanOrEqual(3);
  });

  it('an error answer rejects with RpcError carrying the status, Code and Message', async () => {
    const url = await serve((_req, res) => {
      res.statusCode = 500;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ Message: 'block was not found locally (offline)', Code: 0, Type: 'error' }));
    });
    client = new KuboBlockClient(url);
    await expect(client.get('x', o())).rejects.toMatchObject({ name: 'RpcError', status: 500, code: 0, message: 'block was not found locally (offline)' });
    // the connection stays usable after an error answer
    await expect(client.get('y', o())).rejects.toMatchObject({ status: 500 });
  });

  it('a kept-alive connection the server closed while idle is replaced, the request is not lost', async () => {
    const url = await serve((_req, res) => res.end('ok'));
    server!.keepAliveTimeout = 100;
    client = new KuboBlockClient(url, { maxConnections: 1 });
    expect(Buffer.from(await client.get('a', o())).toString()).toBe('ok');
    await new Promise((r) => setTimeout(r, 300));
    expect(Buffer.from(await client.get('b', o())).toString()).toBe('ok');
  });

  it('aborts a request whose signal fires, and refuses answers larger than any block', async () => {
    const url = await serve((_req, res, u) => {
      if (u.searchParams.get('arg') === 'huge') {
        res.setHeader('Content-Length', 64 * 1024 * 1024);
        res.write(Buffer.alloc(1024));
        return;
      }
      // never answers
    });
    client = new KuboBlockClient(url);
    const ac = new AbortController();
    const p = client.get('slow', ac.signal);
    setTimeout(() => ac.abort(new Error('deadline')), 50);
    await expect(p).rejects.toThrow('deadline');
    await expect(client.get('huge', o())).rejects.toThrow(/larger than any block/);
  });

  it('a node that is not there fails with the system error as cause (ECONNREFUSED)', async () => {
    client = new KuboBlockClient(`http://127.0.0.1:${await unusedPort()}`);
    await expect(client.get('a', o())).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });
});
