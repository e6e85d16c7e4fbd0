import { sha256 } from 'multiformats/hashes/sha2';
import { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { carBlocks } from '../../../../src-main/ipfs/carBlocks.ts';

/** A CARv1 section or header: varint length, then the bytes. */
function lp(bytes: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = bytes.length;
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 0x80);
  }
  len.push(n);
  return Uint8Array.from([...len, ...bytes]);
}

describe('carBlocks', () => {
  it('reads every block of a CAR by its canonical CID (CIDv0 and CIDv1, blocks of 200 bytes need a 2-byte varint)', async () => {
    const a = new Uint8Array(200).fill(7);
    const b = new TextEncoder().encode('hello');
    const v0 = CID.createV0(await sha256.digest(a));
    const v1 = CID.createV1(0x55, await sha256.digest(b));
    const header = new Uint8Array([0xa2, 0x01, 0x02]); // skipped, never decoded
    const car = Uint8Array.from([...lp(header), ...lp(Uint8Array.from([...v0.bytes, ...a])), ...lp(Uint8Array.from([...v1.bytes, ...b]))]);
    const got = carBlocks(car);
    expect([...got.keys()]).toEqual([v0.toString(), v1.toString()]);
    expect(v0.toString()).toMatch(/^Qm/);
    expect(v1.toString()).toMatch(/^b/);
    expect(got.get(v0.toString())).toEqual(a);
    expect(got.get(v1.toString())).toEqual(b);
    expect(() => carBlocks(car.subarray(0, car.length - 2))).toThrow(/cut short/);
  });
});
