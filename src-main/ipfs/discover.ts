import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MultiaddrError, parseMultiaddr } from '../../src-shared/multiaddr.ts';
import { FsError } from '../vfs/FsError.ts';
import type { IpfsNode } from './IpfsNode.ts';
import { JS_IPFS_MESSAGES, JsIpfsAware } from './jsIpfsPeer.ts';
import { KuboNode } from './kubo.ts';

// Where the IPFS node is (DESIGN.md "Data model"): the `api` file the running node
// writes into its repo ($IPFS_PATH, else ~/.ipfs), else Kubo's default address.

/** Kubo's default RPC address. */
export const DEFAULT_API = '/ip4/127.0.0.1/tcp/5001';

/** The API multiaddr of the local node: `$IPFS_PATH/api` or `~/.ipfs/api`, else DEFAULT_API. */
export async function discoverApi(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const repo = env.IPFS_PATH || join(homedir(), '.ipfs');
  try {
    const text = (await readFile(join(repo, 'api'), 'utf8')).trim();
    if (text) return text;
  } catch {
    // no running node wrote an api file
  }
  return DEFAULT_API;
}

/**
 * Connects to the node a spec names: a multiaddr, "embedded", or undefined for
 * discovery. Nothing is contacted yet; the first call fails if the node is not there.
 */
export async function connectNode(ref?: string): Promise<IpfsNode> {
  if (ref === 'embedded') throw new FsError('InvalidOperation', 'the embedded node is not built yet; give a Kubo RPC address like /ip4/127.0.0.1/tcp/5001');
  const text = ref ?? (await discoverApi());
  let addr;
  try {
    addr = parseMultiaddr(text);
  } catch (err) {
    const msg = err instanceof MultiaddrError ? err.message : String(err);
    throw new FsError('InvalidItem', `IPFS node address: ${msg}`);
  }
  if (addr.kind === 'unix') {
    throw new FsError('InvalidOperation', `IPFS node ${text}: unix socket RPC addresses are not supported yet; use /ip4/<addr>/tcp/<port>`);
  }
  return new JsIpfsAware(new KuboNode(addr.url, text, JS_IPFS_MESSAGES));
}
