import type { KeyfsGuestSchema } from '../../src-shared/mountSpec.ts';
import { connectNode, type NodeContext } from '../ipfs/discover.ts';
import type { IpfsKey, IpfsNode } from '../ipfs/IpfsNode.ts';
import { FsError } from '../vfs/FsError.ts';
import type { CallOpts, Vfs } from '../vfs/types.ts';
import { IpfsTree } from './ipfsTree.ts';
import { IPNS_DEFAULT_EXPIRY_MS, IpnsResolver } from './ipns.ts';
import { TtlCache } from './ipfsTtlCache.ts';
import type { z } from 'zod';

// The keyfs guest: the node's keys as folders named by key name, each showing what the
// key's IPNS name points to. A key that was never published (its name resolves to
// nothing) is shown as an EMPTY folder rather than hidden or failing, so every key the
// user has is visible; its xattr has no CID. Keys and names are cached for
// cacheExpiryMs (1 min by default).

/** The keyfs guest's spec. */
export type KeyfsGuestSpec = z.infer<typeof KeyfsGuestSchema>;

/** Opens a keyfs guest on `node`. */
export function keyfsGuestOn(node: IpfsNode, spec: Omit<KeyfsGuestSpec, 'kind'>): Vfs {
  const ttl = spec.cacheExpiryMs ?? IPNS_DEFAULT_EXPIRY_MS;
  const keyCache = new TtlCache<'keys', IpfsKey[]>(ttl);
  const names = new IpnsResolver(node, ttl);
  const keys = (opts: CallOpts): Promise<IpfsKey[]> => keyCache.get('keys', () => node.keys(opts));
  const target = async (key: IpfsKey, opts: CallOpts): Promise<string | null> => {
    try {
      return await names.resolve(key.id, [], opts);
    } catch (err) {
      if (err instanceof FsError && err.kind === 'NotExist') return null;
      throw err;
    }
  };
  return new IpfsTree(node, {
    name: 'keyfs',
    top: {
      kind: 'virtual',
      list: async (opts) => {
        const list = [...(await keys(opts))].sort((a, b) => (a.name < b.name ? -1 : 1));
        return await Promise.all(list.map(async (k) => ({ name: k.name, cid: await target(k, opts) })));
      },
      lookup: async (name, opts) => {
        const key = (await keys(opts)).find((k) => k.name === name);
        if (!key) throw new FsError('NotExist', `no key named ${JSON.stringify(name)} on ${node.address}`);
        return await target(key, opts);
      },
    },
    immutable: false,
    ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
    ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
  });
}

/** Opens the keyfs guest a spec describes. */
export async function openKeyfsGuest(spec: KeyfsGuestSpec, ctx: NodeContext = {}): Promise<Vfs> {
  return keyfsGuestOn(await connectNode(spec.node, ctx), spec);
}
