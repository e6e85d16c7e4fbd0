import type { NodeStatus, Settings } from '../../src-shared/api.ts';
import { parseMultiaddr } from '../../src-shared/multiaddr.ts';
import { DEFAULT_API, discoverApi } from './discover.ts';

// "Connected to kubo/0.38.0 at 127.0.0.1:5001" / "not reachable: …" for the settings
// screen and the header's status line: which node mounts without a node of their own
// use, how it was chosen, and whether it answers. Discovery as discover.ts does it: the
// settings' node, else a running Kubo, else the embedded node (always there). One short
// call to Kubo's documented /api/v0/id; nothing is cached, so the line is as fresh as
// the last ask.

/** How long the status check waits for the node. */
const CHECK_TIMEOUT_MS = 3000;

/** What the embedded node reports as its agent. */
export const EMBEDDED_AGENT = 'berth-embedded (@helia/unixfs, trustless gateways)';

/** Checks the node that the settings (or discovery) pick for mounts without their own `node`. */
export async function checkNodeStatus(settings: Settings, env: NodeJS.ProcessEnv = process.env): Promise<NodeStatus> {
  const checkedAt = new Date().toISOString();
  const embedded: NodeStatus = { address: 'embedded', source: 'embedded', reachable: true, checkedAt, agent: `${EMBEDDED_AGENT}${settings.offline ? ', offline' : ''}` };
  if (settings.ipfsNode === 'embedded') return embedded;
  if (settings.ipfsNode) return await checkKubo(settings.ipfsNode, 'settings', checkedAt);
  // discovery (discover.ts): a running Kubo wins, else the embedded node
  const found = await discoverApi(env);
  for (const [address, source] of [[found, found === DEFAULT_API ? 'default' : 'discovered'], [DEFAULT_API, 'default']] as const) {
    const st = await checkKubo(address, source, checkedAt);
    if (st.reachable) return st;
  }
  return embedded;
}

/** Asks a Kubo RPC API at `address` who it is. */
async function checkKubo(address: string, source: NodeStatus['source'], checkedAt: string): Promise<NodeStatus> {
  let url: string;
  try {
    const addr = parseMultiaddr(address);
    if (addr.kind !== 'tcp') return { address, source, reachable: false, checkedAt, error: { kind: 'InvalidOperation', message: `${address}: unix socket RPC addresses are not supported yet` } };
    url = addr.url;
  } catch (err) {
    return { address, source, reachable: false, checkedAt, error: { kind: 'InvalidItem', message: (err as Error).message } };
  }
  try {
    const res = await fetch(`${url}/api/v0/id`, { method: 'POST', signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    if (!res.ok) {
      await res.body?.cancel();
      return { address, source, reachable: false, checkedAt, error: { kind: 'IO', message: `the node at ${address} answered HTTP ${res.status}`, hint: 'is this a Kubo RPC API address (usually port 5001)?' } };
    }
    const id = (await res.json()) as { AgentVersion?: unknown };
    const agent = typeof id.AgentVersion === 'string' ? id.AgentVersion.replace(/\/+$/, '') : undefined;
    return { address, source, reachable: true, checkedAt, ...(agent ? { agent } : {}) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const timedOut = e.name === 'TimeoutError';
    const refused = e.cause?.code === 'ECONNREFUSED';
    return {
      address,
      source,
      reachable: false,
      checkedAt,
      error: {
        kind: timedOut ? 'Timeout' : 'Unavailable',
        message: timedOut ? `the node at ${address} did not answer within ${CHECK_TIMEOUT_MS / 1000} s` : refused ? `nothing answers at ${address} (connection refused)` : `cannot reach ${address}: ${e.cause?.code ?? e.message}`,
        hint: 'start Kubo (`ipfs daemon`) or IPFS Desktop, or switch to the embedded node (settings: IPFS node "embedded")',
        ...(refused ? { errno: 'ECONNREFUSED' } : {}),
      },
    };
  }
}
