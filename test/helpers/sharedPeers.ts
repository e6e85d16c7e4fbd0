import { request } from 'node:http';
import { create, type KuboRPCClient } from 'kubo-rpc-client';
import { inject } from 'vitest';
import type { AddedFixture, FixtureEntry, FixtureTree } from './fixtures.ts';

// The test side of the integration run's shared peers (globalSetup.ts owns them): one
// js-ipfs peer and one fixture tree, added to it once, for every file that needs them.
// Files run one at a time, so a test may kill and restart the peer; it must leave it
// running (start() is idempotent, call it in afterAll).

/** What globalSetup.ts answers on its control socket (JSON: Maps travel as entry lists). */
export interface SharedAnswer {
  tree?: { dir: string; outside: string; entries: [string, FixtureEntry][] };
  peer?: { apiMultiaddr: string; apiUrl: string; gatewayUrl: string; repoPath: string; pid: number | undefined };
  added?: { rootCid: string; cids: [string, string][] };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The unix socket of the shared peers' control server (globalSetup.ts). */
    sharedPeersSocket: string;
  }
}

/** Asks the control server of globalSetup.ts; it starts what is asked for on first use. */
export function askShared(path: string): Promise<SharedAnswer> {
  const socketPath = inject('sharedPeersSocket');
  if (!socketPath) throw new Error('the shared peers are not set up: run this file with the integration project (vitest --project integration)');
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'POST', path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`shared peers ${path}: ${text}`));
        else resolve(JSON.parse(text) as SharedAnswer);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The shared fixture tree on disk (read-only for tests) and a file beside it that no export of the tree may serve. */
export interface SharedTree extends FixtureTree {
  /** `outside-secret`, next to the tree's folder. */
  outside: string;
}

/** The shared fixture tree, written once per run. */
export async function sharedFixtureTree(): Promise<SharedTree> {
  const a = await askShared('/tree');
  return { dir: a.tree!.dir, outside: a.tree!.outside, entries: new Map(a.tree!.entries) };
}

/** The shared js-ipfs peer: like IpfsPeer, minus stop() (the run owns it). */
export interface SharedIpfsPeer {
  readonly apiMultiaddr: string;
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  readonly repoPath: string;
  readonly client: KuboRPCClient;
  /** SIGKILLs the daemon and waits for it to exit; the repo (and so the fixture) stays. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and repo if it is not running; resolves when the API answers. */
  start(): Promise<void>;
}

/** The shared peer, running; with the fixture tree added to it when `fixture` is true. */
export async function sharedIpfsPeer(): Promise<SharedIpfsPeer>;
export async function sharedIpfsPeer(opts: { fixture: true }): Promise<{ peer: SharedIpfsPeer; tree: SharedTree; added: AddedFixture }>;
export async function sharedIpfsPeer(opts: { fixture?: boolean } = {}): Promise<SharedIpfsPeer | { peer: SharedIpfsPeer; tree: SharedTree; added: AddedFixture }> {
  const a = await askShared(opts.fixture ? '/ipfs/fixture' : '/ipfs');
  const p = a.peer!;
  const peer: SharedIpfsPeer = {
    apiMultiaddr: p.apiMultiaddr,
    apiUrl: p.apiUrl,
    gatewayUrl: p.gatewayUrl,
    repoPath: p.repoPath,
    client: create({ url: p.apiUrl }),
    kill: async () => void (await askShared('/ipfs/kill')),
    start: async () => void (await askShared('/ipfs/start')),
  };
  if (!opts.fixture) return peer;
  return {
    peer,
    tree: { dir: a.tree!.dir, outside: a.tree!.outside, entries: new Map(a.tree!.entries) },
    added: { rootCid: a.added!.rootCid, cids: new Map(a.added!.cids) },
  };
}
