import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KuboRPCClient } from 'kubo-rpc-client';
import { CID } from 'multiformats/cid';

// A loopback trustless gateway (https://specs.ipfs.tech/http-gateways/trustless-gateway/)
// serving a peer's blocks: `GET /ipfs/<cid>?format=raw` (or Accept:
// application/vnd.ipld.raw) answers the block from the peer's `block/get`. `corrupt`
// flips one byte of every block it serves, to prove a client verifies what it gets.

/** A running test gateway. */
export interface TestGateway {
  /** `http://127.0.0.1:N` */
  readonly url: string;
  /** Every CID requested, in order. */
  readonly requests: string[];
  /** When true, every block served has one byte changed. */
  corrupt: boolean;
  close(): Promise<void>;
}

/** Starts a gateway on 127.0.0.1, port 0, serving `client`'s blocks. */
export async function startTrustlessGateway(client: KuboRPCClient): Promise<TestGateway> {
  const requests: string[] = [];
  const gw: { corrupt: boolean } = { corrupt: false };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const m = /^\/ipfs\/([^/]+)$/.exec(url.pathname);
      const raw = url.searchParams.get('format') === 'raw' || (req.headers.accept ?? '').includes('application/vnd.ipld.raw');
      if (!m || !raw) {
        res.writeHead(400).end('only /ipfs/<cid>?format=raw here');
        return;
      }
      requests.push(m[1]!);
      try {
        let block = await client.block.get(CID.parse(m[1]!), { signal: AbortSignal.timeout(10_000) });
        if (gw.corrupt) {
          block = Uint8Array.from(block);
          block[block.length >> 1] = block[block.length >> 1]! ^ 0xff;
        }
        res.writeHead(200, { 'content-type': 'application/vnd.ipld.raw', 'content-length': String(block.length) }).end(block);
      } catch (err) {
        res.writeHead(404).end(String(err));
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get corrupt() {
      return gw.corrupt;
    },
    set corrupt(v: boolean) {
      gw.corrupt = v;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
