import type { MountStatus } from '../../src-shared/mountState.ts';

// The mounts slice: the live table as the service reports it. Rows are kept by id so a
// row component selects only its own mount and re-renders only when that one changes;
// the id list keeps the service's order and changes only when a mount comes or goes.

/** The mounts slice. */
export interface MountsSlice {
  /** Ids in the service's order (the order mounts were added). */
  mountIds: string[];
  mountsById: Record<string, MountStatus>;
}

/** An empty table. */
export function initialMounts(): MountsSlice {
  return { mountIds: [], mountsById: {} };
}

/** The whole table replaced (a snapshot). */
export function setMounts(list: readonly MountStatus[]): MountsSlice {
  const mountsById: Record<string, MountStatus> = {};
  for (const m of list) mountsById[m.id] = m;
  return { mountIds: list.map((m) => m.id), mountsById };
}

/** One mount added or changed; the id list keeps its identity unless a mount is new. */
export function putMount(m: MountStatus): (s: MountsSlice) => Partial<MountsSlice> {
  return (s) => ({
    mountsById: { ...s.mountsById, [m.id]: m },
    ...(s.mountsById[m.id] ? {} : { mountIds: [...s.mountIds, m.id] }),
  });
}

/** One mount removed. */
export function dropMount(id: string): (s: MountsSlice) => Partial<MountsSlice> {
  return (s) => {
    if (!s.mountsById[id]) return {};
    const { [id]: _gone, ...rest } = s.mountsById;
    return { mountsById: rest, mountIds: s.mountIds.filter((x) => x !== id) };
  };
}
