import type { CallOpts, DirEntry, Vfs } from './types.ts';

// Listings in batches (Vfs.readdirBatches). A host asks for batches; a guest or layer
// that lists in batches gives its own, and one that does not has its entries gathered.
// Layers implement readdir as the flattening of their batches, so a per-entry consumer
// pays one generator step per entry, not one per layer.

/** Entries gathered per batch from a guest that lists one entry at a time. */
const GATHER = 256;

/** The listing of `path` in batches: the vfs's own when it has them, else its entries gathered. */
export function readdirBatches(vfs: Vfs, path: string, opts: CallOpts): AsyncIterable<readonly DirEntry[]> {
  return vfs.readdirBatches ? vfs.readdirBatches(path, opts) : gather(vfs.readdir(path, opts));
}

/** Batches of up to GATHER entries of a per-entry listing. */
export async function* gather(entries: AsyncIterable<DirEntry>): AsyncGenerator<readonly DirEntry[]> {
  let batch: DirEntry[] = [];
  for await (const e of entries) {
    batch.push(e);
    if (batch.length >= GATHER) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The entries of a batched listing one by one (readdir of a vfs that lists in batches). */
export async function* flatten(batches: AsyncIterable<readonly DirEntry[]>): AsyncGenerator<DirEntry> {
  for await (const b of batches) yield* b;
}
