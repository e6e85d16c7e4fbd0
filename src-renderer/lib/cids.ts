import { parseContentPath } from '../../src-shared/contentPath.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';

// Whether "Copy CID" and the link items can work for a mount or a path inside it, and if
// not, why: the reason goes into the disabled item's tooltip (UI.md "Actions menu").

/** True when the mount's root is a bare /ipfs/<cid>, known without asking the node. */
function bareIpfsRoot(m: MountStatus): boolean {
  const g = m.spec.guest;
  if (g.kind !== 'ipfs' || !g.root) return false;
  try {
    const cp = parseContentPath(g.root);
    return cp.namespace === 'ipfs' && cp.path.length === 0;
  } catch {
    return false;
  }
}

/** Undefined when a CID can be looked up at `path`, else the reason it cannot. */
export function noCidReason(m: MountStatus, path: string): string | undefined {
  const g = m.spec.guest;
  if (g.kind === 'nfs') return 'NFS shares have no CID';
  if (g.kind === 'local') return 'Local folders have no CID';
  if (path === '/') {
    if (g.kind === 'ipfs' && !g.root) return 'The /ipfs folder has no CID of its own: browse into it to copy one';
    if (g.kind === 'ipns' && !g.name) return 'The /ipns folder has no CID of its own: browse into it to copy one';
    if (g.kind === 'pinfs') return 'The pin list has no CID of its own: browse to a pin to copy one';
    if (g.kind === 'keyfs') return 'The key list has no CID of its own: browse to a key to copy one';
  }
  if (m.state !== 'mounted' && !(path === '/' && bareIpfsRoot(m))) return 'Mount it first: its CID is looked up through the mount';
  return undefined;
}
