import type { KuboRPCClient } from 'kubo-rpc-client';
import { missingIpfsPeer, startIpfsPeer, type IpfsPeer } from '../../helpers/ipfsPeer.ts';

// The IPFS side of the browser tests: a js-ipfs peer and a small site added to it, the
// kind of folder a person would mount from a link someone sent.

/** Files of the site, as added (the page shows their names, sizes and CIDs). */
export const SITE_FILES: Record<string, string> = {
  'site/index.html': '<!doctype html><h1>Hello from Berth</h1>\n',
  'site/hello.txt': 'hello from IPFS\n',
  'site/docs/readme.txt': 'read me, then mount me\n',
  'site/docs/notes.md': '# Notes\n\nMounted with Berth.\n',
};

/** The site's CIDs as the peer reported them (CIDv1). */
export interface Site {
  rootCid: string;
  cids: Map<string, string>;
}

/** Adds SITE_FILES to the peer as one folder. */
export async function addSite(client: KuboRPCClient): Promise<Site> {
  const cids = new Map<string, string>();
  for await (const e of client.addAll(
    Object.entries(SITE_FILES).map(([path, text]) => ({ path, content: new TextEncoder().encode(text) })),
    { cidVersion: 1, wrapWithDirectory: false },
  )) {
    cids.set(e.path, e.cid.toString());
  }
  return { rootCid: cids.get('site')!, cids };
}

/** Reason there is no IPFS peer here, or undefined. */
export const missingPeer = missingIpfsPeer;

/** A js-ipfs peer for one test file; stop it in afterAll. */
export async function startPeer(): Promise<IpfsPeer> {
  return await startIpfsPeer();
}
