import { FsError } from '../vfs/FsError.ts';

// UnixFS symlinks, as the IPFS guests present them (DESIGN.md "Symlinks"): relative
// targets stay symlinks when they stay inside the mount; `/ipfs/<cid>/p` (and
// `/ipns/<name>/p`) become relative links into the mount when the mount IS that
// namespace, and are followed otherwise; `/p` means the mount's root. Nothing ever
// resolves outside the guest's root: such targets are refused with Permission.

/** Which tree a location is in: the mount's own paths, or content named by CID / IPNS name. */
export type Space = 'mount' | 'ipfs' | 'ipns';

/** A location: in the mount, segments from its root; in ipfs/ipns, [cid-or-name, ...path]. */
export interface Loc {
  space: Space;
  segs: string[];
}

/** How a symlink is shown. */
export type LinkPresentation =
  | { kind: 'keep'; text: string }
  | { kind: 'follow' }
  | { kind: 'refuse'; error: FsError };

function split(p: string): string[] {
  return p.split('/');
}

/** Applies `parts` to `base`, never popping below `minLen` segments (Permission if a ".." would). */
function normalize(base: string[], parts: string[], minLen: number, target: string): string[] {
  const out = [...base];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (out.length <= minLen) throw new FsError('Permission', `symlink target ${JSON.stringify(target)} points outside the mount`);
      out.pop();
    } else out.push(p);
  }
  return out;
}

/** Where a symlink at `link` points to. Throws Permission when the target leaves the root. */
export function targetLoc(link: Loc, target: string): Loc {
  if (target === '') throw new FsError('NotExist', 'empty symlink target');
  for (const space of ['ipfs', 'ipns'] as const) {
    const prefix = `/${space}/`;
    if (target.startsWith(prefix)) {
      const segs = normalize([], split(target.slice(prefix.length)), 0, target);
      if (segs.length === 0) throw new FsError('NotExist', `symlink target ${JSON.stringify(target)} names no ${space} content`);
      // the CID or name itself cannot be climbed out of
      return { space, segs: [segs[0]!, ...normalize([], segs.slice(1), 0, target)] };
    }
  }
  if (target.startsWith('/')) return { space: 'mount', segs: normalize([], split(target), 0, target) };
  const minLen = link.space === 'mount' ? 0 : 1;
  return { space: link.space, segs: normalize(link.segs.slice(0, -1), split(target), minLen, target) };
}

/**
 * How the mount shows a symlink at `link`. `namespace` is the space the mount's root
 * is (an ipfs guest without a root is the /ipfs namespace), if any.
 */
export function presentLink(link: Loc, target: string, namespace?: 'ipfs' | 'ipns'): LinkPresentation {
  let loc: Loc;
  try {
    loc = targetLoc(link, target);
  } catch (err) {
    if (err instanceof FsError) return { kind: 'refuse', error: err };
    throw err;
  }
  const relative = !target.startsWith('/');
  if (relative) return { kind: 'keep', text: target };
  if (link.space !== 'mount') return { kind: 'follow' };
  const up = '../'.repeat(Math.max(link.segs.length - 1, 0));
  if (loc.space === 'mount') return { kind: 'keep', text: `${up}${loc.segs.join('/')}` || '.' };
  if (loc.space === namespace) return { kind: 'keep', text: `${up}${loc.segs.join('/')}` };
  return { kind: 'follow' };
}
