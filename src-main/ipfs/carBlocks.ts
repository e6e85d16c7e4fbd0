import { CarBlockIterator } from '@ipld/car';
import { FsError } from '../vfs/FsError.ts';
import { canonicalCid } from './canonicalCid.ts';
import { asCid, verifyBlock } from './verifyBlock.ts';

// The blocks of a CAR stream (https://ipld.io/specs/transport/car/), read with @ipld/car
// and each verified against its CID before it is handed on (verifyBlock.ts).

/** Every block of a CAR body, verified, by canonical CID text; `from` names the source for errors. */
export async function carBlocks(car: Uint8Array | AsyncIterable<Uint8Array>, from: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  let blocks;
  try {
    blocks = car instanceof Uint8Array ? await CarBlockIterator.fromBytes(car) : await CarBlockIterator.fromIterable(car);
  } catch (err) {
    throw new FsError('IO', `CAR from ${from}: ${(err as Error).message}`, { cause: err });
  }
  try {
    for await (const { cid, bytes } of blocks) {
      const c = asCid(cid);
      await verifyBlock(c, bytes, from);
      out.set(canonicalCid(c.toString()) ?? c.toString(), bytes);
    }
  } catch (err) {
    if (err instanceof FsError) throw err;
    throw new FsError('IO', `CAR from ${from}: ${(err as Error).message}`, { cause: err });
  }
  return out;
}
