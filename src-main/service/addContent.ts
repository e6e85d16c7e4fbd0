import type { Settings } from '../../src-shared/api.ts';
import { connectNode } from '../ipfs/discover.ts';
import type { AddResult } from '../ipfs/IpfsNode.ts';
import { nodeContext } from './openMount.ts';

// `berth add` and the desktop's drop-files-to-add: import a local file or folder into
// the node mounts use by default (the settings' node, a running Kubo, else the embedded
// node), with Kubo's current import defaults, pinned.

/** How long one add may take (a large folder from a slow disk). */
const ADD_TIMEOUT_MS = 30 * 60_000;

/** Adds `path` to the default node; resolves with its CID and the node's address. */
export async function addContent(path: string, pin: boolean, settings: Settings): Promise<AddResult & { node: string }> {
  const node = await connectNode(undefined, nodeContext(settings));
  try {
    const r = await node.add(path, { signal: AbortSignal.timeout(ADD_TIMEOUT_MS), pin });
    return { ...r, node: node.address };
  } finally {
    await node.close().catch(() => undefined);
  }
}
