import './withResolvers.cjs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { addFixture, buildFixtureTree, type AddedFixture, type FixtureTree } from './fixtures.ts';
import { startIpfsPeer, type IpfsPeer } from './ipfsPeer.ts';
import type { SharedAnswer } from './sharedPeers.ts';

// One js-ipfs peer and one fixture tree for the whole integration run, instead of one
// each per file (each start is seconds, each 50 MiB fixture add tens of seconds on a busy
// machine). They start on first use, so a run of files that need neither pays nothing.
// Test files reach them through a small control server on a unix socket (sharedPeers.ts):
// it hands out addresses and lets a test kill and restart the peer, which stays owned
// here, in vitest's main process, and is stopped when the run ends.

/** Starts the control server; vitest calls the returned function when the run ends. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const base = await mkdtemp(join(tmpdir(), 'berth-shared-'));
  // Listings kept by CID and MFS buffers go to the run's own cache folder, never the
  // user's: a kept listing from an earlier run would answer a test meant to ask the node.
  // Workers start after this and inherit it; a test that needs its own sets its own.
  const cacheBefore = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = join(base, 'cache');
  let tree: Promise<FixtureTree & { outside: string }> | undefined;
  let peer: Promise<IpfsPeer> | undefined;
  let added: Promise<AddedFixture> | undefined;

  const ensureTree = () =>
    (tree ??= (async () => {
      const t = await buildFixtureTree(join(base, 'tree'));
      // Beside the tree: what a containment test checks is never served.
      const outside = join(base, 'outside-secret');
      await writeFile(outside, 'must never be served\n');
      return { ...t, outside };
    })());
  const ensurePeer = async (): Promise<IpfsPeer> => {
    const p = await (peer ??= startIpfsPeer());
    // A test may have killed it and failed before restarting it.
    await p.start();
    return p;
  };
  const ensureAdded = async () => {
    const p = await ensurePeer();
    const t = await ensureTree();
    return await (added ??= addFixture(p.client, t.dir));
  };

  const treeJson = async (): Promise<SharedAnswer['tree']> => {
    const t = await ensureTree();
    return { dir: t.dir, outside: t.outside, entries: [...t.entries] };
  };
  const peerJson = (p: IpfsPeer): SharedAnswer['peer'] => ({ apiMultiaddr: p.apiMultiaddr, apiUrl: p.apiUrl, gatewayUrl: p.gatewayUrl, repoPath: p.repoPath, pid: p.pid });
  const routes: Record<string, () => Promise<SharedAnswer>> = {
    '/tree': async () => ({ tree: await treeJson() }),
    '/ipfs': async () => ({ peer: peerJson(await ensurePeer()) }),
    '/ipfs/fixture': async () => {
      const a = await ensureAdded();
      return { peer: peerJson(await ensurePeer()), tree: await treeJson(), added: { rootCid: a.rootCid, cids: [...a.cids] } };
    },
    '/ipfs/kill': async () => {
      await (await ensurePeer()).kill();
      return {};
    },
    '/ipfs/start': async () => ({ peer: peerJson(await ensurePeer()) }),
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const route = routes[req.url ?? ''];
    req.resume();
    void (route ?? (() => Promise.reject(new Error(`no route ${req.url}`))))().then(
      (answer) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err instanceof Error ? (err.stack ?? err.message) : String(err));
      },
    );
  });
  // Peer start and the fixture add can take minutes on a loaded machine.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  const socketPath = join(base, 'control.sock');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  project.provide('sharedPeersSocket', socketPath);

  return async () => {
    server.close();
    server.closeAllConnections();
    const p = await peer?.catch(() => undefined);
    await p?.stop();
    await rm(base, { recursive: true, force: true });
    if (cacheBefore === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = cacheBefore;
  };
}
