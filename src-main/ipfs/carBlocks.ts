import { CID } from 'multiformats/cid';

// Reads the blocks of a CARv1 stream (https://ipld.io/specs/transport/car/carv1/): a
// varint-prefixed header, then varint-prefixed sections of CID bytes + block bytes.
// Used to fetch many small blocks in one call (kubo.ts) instead of one call each.

/** Decodes an unsigned LEB128 varint at `at`; returns [value, next offset] or undefined when cut short. */
function varint(buf: Uint8Array, at: number): [number, number] | undefined {
  let value = 0;
  let mul = 1;
  for (let i = at; i < buf.length && i < at + 8; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * mul;
    if (b < 0x80) return [value, i + 1];
    mul *= 0x80;
  }
  return undefined;
}

/** Every block of a complete CARv1 body, by canonical CID text; throws when malformed. */
export function carBlocks(car: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const head = varint(car, 0);
  if (!head || head[1] + head[0] > car.length) throw new Error('CAR: cut short in its header');
  let at = head[1] + head[0];
  while (at < car.length) {
    const sec = varint(car, at);
    if (!sec || sec[1] + sec[0] > car.length) throw new Error(`CAR: section at byte ${at} cut short`);
    const section = car.subarray(sec[1], sec[1] + sec[0]);
    const [cid, block] = CID.decodeFirst(section);
    // CID.toString() prints CIDv0 as Qm… and CIDv1 in base32 when not parsed from text
    out.set(cid.toString(), block);
    at = sec[1] + sec[0];
  }
  return out;
}
