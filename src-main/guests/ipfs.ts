import { ContentPathError, formatContentPath, parseContentPath, tryParseCid } from '../../src-shared/contentPath.ts';
import type { IpfsGuestSchema } from '../../src-shared/mountSpec.ts';
import { connectNode, type NodeContext } from '../ipfs/discover.ts';
import type { IpfsNode } from '../ipfs/IpfsNode.ts';
import { FsError } from '../vfs/FsError.ts';
import type { CallOpts, Vfs } from '../vfs/types.ts';
import { IpfsTree, type IpfsTop } from './ipfsTree.ts';
import type { z } from 'zod';

// The ipfs guest: without a root, the /ipfs namespace (the top level lists nothing;
// `<cid>/path` works); with a root (any content path form), that content.

/** The ipfs guest's spec. */
export type IpfsGuestSpec = z.infer<typeof IpfsGuestSchema>;

/** The fixed-root top: the root path is resolved once (content under a CID never changes). */
function fixedRoot(node: IpfsNode, root: string): IpfsTop {
  let cp;
  try {
    cp = parseContentPath(root);
  } catch (err) {
    throw new FsError('InvalidItem', `ipfs root: ${err instanceof ContentPathError ? err.message : String(err)}`);
  }
  if (cp.namespace !== 'ipfs') throw new FsError('InvalidItem', `ipfs root ${JSON.stringify(root)} is an IPNS path: use the ipns guest for it`);
  const path = formatContentPath(cp);
  let resolved: Promise<string> | undefined;
  return {
    kind: 'fixed',
    root: async (opts: CallOpts) => {
      resolved ??= node.resolve(path, opts).then((s) => s.cid);
      try {
        return await resolved;
      } catch (err) {
        resolved = undefined;
        throw err;
      }
    },
  };
}

/**
 * The namespace top: any CID is a folder (or file) of the root; listing it shows nothing.
 * Unchanging, so the whole mount is immutable (kernel_cache, long attribute timeouts);
 * a CID seen for the first time still resolves, as no negative lookup is cached.
 */
function namespaceRoot(): IpfsTop {
  return {
    kind: 'virtual',
    unchanging: true,
    list: async () => [],
    lookup: async (name: string) => {
      const cid = tryParseCid(name);
      if (!cid) throw new FsError('NotExist', `${JSON.stringify(name)} is not a CID`);
      return cid.toString();
    },
  };
}

/** Opens an ipfs guest on `node` (exported for tests that bring their own node). */
export function ipfsGuestOn(node: IpfsNode, spec: Omit<IpfsGuestSpec, 'kind'>): Vfs {
  const top = spec.root !== undefined ? fixedRoot(node, spec.root) : namespaceRoot();
  return new IpfsTree(node, {
    name: spec.root !== undefined ? `ipfs ${spec.root}` : 'ipfs',
    top,
    ...(spec.root === undefined ? { namespace: 'ipfs' as const } : {}),
    immutable: true,
    ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
    ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
  });
}

/** Opens the ipfs guest a spec describes. */
export async function openIpfsGuest(spec: IpfsGuestSpec, ctx: NodeContext = {}): Promise<Vfs> {
  const node = await connectNode(spec.node, ctx);
  return ipfsGuestOn(node, spec);
}
