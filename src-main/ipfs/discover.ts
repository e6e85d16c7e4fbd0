import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MultiaddrError, parseMultiaddr } from '../../src-shared/multiaddr.ts';
import { FsError } from '../vfs/FsError.ts';
import type { IpfsNode } from './IpfsNode.ts';
import { JS_IPFS_MESSAGES, JsIpfsAware } from './jsIpfsPeer.ts';
import { KuboNode } from './kubo.ts';
import { ListingCachedNode } from './ListingCachedNode.ts';
import { DEFAULT_LISTING_CACHE_MAX_BYTES, ListingStore, listingCacheDir } from './ListingStore.ts';
import { MonitoredNode, monitorFor } from './nodeHealth.ts';

// Which IPFS node a mount uses (DESIGN.md "Data model"): the spec's `node`, else the
// settings' node, else a running Kubo (the `api` file it writes into $IPFS_PATH or
// ~/.ipfs, then Kubo's default address), else the embedded node. A Kubo counts as
// running when its API answers `version` within a moment. The embedded node is loaded
// (import()) only when chosen, so the CLI and the daemon start without it.

/** Kubo's default RPC address. */
export const DEFAULT_API = '/ip4/127.0.0.1/tcp/5001';

/** How long discovery waits for a Kubo API to answer before it counts as not running. */
const PROBE_MS = 1500;

/** What the app settings say about nodes (every field optional: defaults apply). */
export interface NodeContext {
  /** The settings' node: a multiaddr or "embedded". */
  defaultNode?: string;
  /** Trustless gateways of the embedded node. */
  gateways?: readonly string[];
  /** Embedded node: never use the network. */
  offline?: boolean;
  /** Embedded node: block cache cap in bytes. */
  cacheMaxBytes?: number;
  /** Cap in bytes of the folder listings kept on disk by CID (ListingStore.ts); 0 turns them off. */
  listingCacheMaxBytes?: number;
  /** Environment for paths and discovery (tests point it at temp folders). */
  env?: NodeJS.ProcessEnv;
}

/** The embedded node's repo: $XDG_DATA_HOME/berth/ipfs, else ~/.local/share/berth/ipfs. */
export function embeddedRepoDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'berth', 'ipfs');
}

/** The API multiaddr a running node wrote (`$IPFS_PATH/api` or `~/.ipfs/api`), else DEFAULT_API. */
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

/** The Kubo RPC node at a multiaddr (nothing is contacted yet). */
export function kuboAt(text: string): IpfsNode & { readonly kubo: KuboNode } {
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

/** The node a mount with no node of its own uses: a multiaddr of a running Kubo, or "embedded". */
export async function discoverNode(ctx: NodeContext = {}): Promise<string> {
  if (ctx.defaultNode) return ctx.defaultNode;
  const env = ctx.env ?? process.env;
  const candidates = [...new Set([await discoverApi(env), DEFAULT_API])];
  for (const c of candidates) {
    try {
      await kuboAt(c).kubo.version({ signal: AbortSignal.timeout(PROBE_MS) });
      return c;
    } catch {
      // not running there
    }
  }
  return 'embedded';
}

/**
 * Connects to the node a spec names: a multiaddr, "embedded", or undefined for
 * discovery. A Kubo node is probed once (a moment at most) so its health is known from
 * the start; a node that is down still connects: its calls fail fast until it answers.
 */
export async function connectNode(ref: string | undefined, ctx: NodeContext = {}): Promise<IpfsNode> {
  return withListings(await connectBare(ref, ctx), ctx);
}

/** The node itself, without kept listings. */
async function connectBare(ref: string | undefined, ctx: NodeContext): Promise<IpfsNode> {
  const chosen = ref ?? (await discoverNode(ctx));
  if (chosen !== 'embedded') {
    const node = kuboAt(chosen);
    const monitored = new MonitoredNode(node, monitorFor(chosen, (signal) => node.kubo.version({ signal })));
    await monitored.health.check();
    return monitored;
  }
  const { embeddedNode, DEFAULT_CACHE_MAX_BYTES, DEFAULT_TRUSTLESS_GATEWAYS } = await import('./embedded/EmbeddedNode.ts');
  return await embeddedNode({
    repoDir: embeddedRepoDir(ctx.env),
    gateways: ctx.gateways ?? DEFAULT_TRUSTLESS_GATEWAYS,
    offline: ctx.offline ?? false,
    maxBytes: ctx.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES,
  });
}

/** The node with folder listings kept on disk by CID, unless the settings turn that off. */
function withListings(node: IpfsNode, ctx: NodeContext): IpfsNode {
  const max = ctx.listingCacheMaxBytes ?? DEFAULT_LISTING_CACHE_MAX_BYTES;
  if (max <= 0) return node;
  return new ListingCachedNode(node, new ListingStore(listingCacheDir(ctx.env), max));
}
