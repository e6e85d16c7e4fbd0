import type { PinfsGuestSchema } from '../../src-shared/mountSpec.ts';
import { tryParseCid } from '../../src-shared/contentPath.ts';
import { connectNode, type NodeContext } from '../ipfs/discover.ts';
import type { IpfsNode } from '../ipfs/IpfsNode.ts';
import { FsError } from '../vfs/FsError.ts';
import type { CallOpts, Vfs } from '../vfs/types.ts';
import { IpfsTree } from './ipfsTree.ts';
import { TtlCache } from './ipfsTtlCache.ts';
import type { z } from 'zod';

// The pinfs guest: the node's recursive pins as the top level (`<cid>` folders or
// files), the listing cached for cacheExpiryMs; below a pin, like the ipfs guest.

/** The pinfs guest's spec. */
export type PinfsGuestSpec = z.infer<typeof PinfsGuestSchema>;

/** How long the pin list is kept when the spec names no expiry. */
export const PINFS_DEFAULT_EXPIRY_MS = 30_000;

/** Opens a pinfs guest on `node`. */
export function pinfsGuestOn(node: IpfsNode, spec: Omit<PinfsGuestSpec, 'kind'>): Vfs {
  const cache = new TtlCache<'pins', Set<string>>(spec.cacheExpiryMs ?? PINFS_DEFAULT_EXPIRY_MS);
  const pins = (opts: CallOpts): Promise<Set<string>> => cache.get('pins', async () => new Set(await node.pins(opts)));
  return new IpfsTree(node, {
    name: 'pinfs',
    top: {
      kind: 'virtual',
      // Not `unchanging`: the top level is the pin list, which changes as pins are added
      // and removed; an immutable mount would let the kernel keep a stale listing and
      // lookups for an hour. So a pinfs mount stays mutable (auto_cache, short attribute
      // timeouts) even though the content below each pin never changes.
      unchanging: false,
      list: async (opts) => [...(await pins(opts))].sort().map((cid) => ({ name: cid, cid })),
      lookup: async (name, opts) => {
        const cid = tryParseCid(name)?.toString();
        if (!cid || !(await pins(opts)).has(cid)) throw new FsError('NotExist', `${JSON.stringify(name)} is not pinned on ${node.address}`);
        return cid;
      },
    },
    immutable: true,
    ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
    ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
  });
}

/** Opens the pinfs guest a spec describes. */
export async function openPinfsGuest(spec: PinfsGuestSpec, ctx: NodeContext = {}): Promise<Vfs> {
  return pinfsGuestOn(await connectNode(spec.node, ctx), spec);
}
