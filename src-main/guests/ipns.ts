import { ContentPathError, isIpnsName, parseContentPath } from '../../src-shared/contentPath.ts';
import type { IpnsGuestSchema } from '../../src-shared/mountSpec.ts';
import { connectNode, type NodeContext } from '../ipfs/discover.ts';
import type { IpfsNode } from '../ipfs/IpfsNode.ts';
import { FsError } from '../vfs/FsError.ts';
import type { CallOpts, Vfs } from '../vfs/types.ts';
import { IpfsTree } from './ipfsTree.ts';
import { TtlCache } from './ipfsTtlCache.ts';
import type { z } from 'zod';

// The ipns guest: without a name, the /ipns namespace (`<name>/path`, listing shows
// nothing); with a name, what it points to. Names are resolved through the node and
// kept for cacheExpiryMs (1 min by default), so a republished name shows up after that.

/** The ipns guest's spec. */
export type IpnsGuestSpec = z.infer<typeof IpnsGuestSchema>;

/** How long a resolved name is kept when the spec names no expiry. */
export const IPNS_DEFAULT_EXPIRY_MS = 60_000;

/** Resolves IPNS names (and a path below them) to a CID, with a cache. */
export class IpnsResolver {
  private readonly cache: TtlCache<string, string>;
  constructor(
    private readonly node: IpfsNode,
    ttlMs: number,
  ) {
    this.cache = new TtlCache(ttlMs);
  }

  /** The CID `/ipns/<name>/<path...>` stands for now. */
  async resolve(name: string, path: string[], opts: CallOpts): Promise<string> {
    const key = [name, ...path].join('/');
    return await this.cache.get(key, async () => {
      const target = await this.node.nameResolve(`/ipns/${name}`, opts);
      const full = path.length ? `${target}/${path.join('/')}` : target;
      return (await this.node.resolve(full, opts)).cid;
    });
  }
}

/** Opens an ipns guest on `node`. */
export function ipnsGuestOn(node: IpfsNode, spec: Omit<IpnsGuestSpec, 'kind'>): Vfs {
  const names = new IpnsResolver(node, spec.cacheExpiryMs ?? IPNS_DEFAULT_EXPIRY_MS);
  const common = {
    immutable: false,
    ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
    ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
  };
  if (spec.name === undefined) {
    return new IpfsTree(node, {
      name: 'ipns',
      namespace: 'ipns',
      top: {
        kind: 'virtual',
        list: async () => [],
        lookup: async (name, opts) => {
          if (!isIpnsName(name)) throw new FsError('NotExist', `${JSON.stringify(name)} is not an IPNS name (a key like k51… or a DNSLink domain)`);
          return await names.resolve(name, [], opts);
        },
      },
      ...common,
    });
  }
  const text = spec.name.startsWith('/') || spec.name.includes('://') ? spec.name : `/ipns/${spec.name}`;
  let cp;
  try {
    cp = parseContentPath(text);
  } catch (err) {
    throw new FsError('InvalidItem', `ipns name: ${err instanceof ContentPathError ? err.message : String(err)}`);
  }
  if (cp.namespace !== 'ipns') throw new FsError('InvalidItem', `ipns name ${JSON.stringify(spec.name)} is an /ipfs/ path: use the ipfs guest with --root`);
  const { name, path } = cp;
  return new IpfsTree(node, {
    name: `ipns ${spec.name}`,
    top: { kind: 'fixed', root: (opts) => names.resolve(name, path, opts) },
    ...common,
  });
}

/** Opens the ipns guest a spec describes. */
export async function openIpnsGuest(spec: IpnsGuestSpec, ctx: NodeContext = {}): Promise<Vfs> {
  return ipnsGuestOn(await connectNode(spec.node, ctx), spec);
}
