import { base32 } from 'multiformats/bases/base32';
import { base36 } from 'multiformats/bases/base36';
import { base58btc } from 'multiformats/bases/base58';
import { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { canonicalCid } from '../../../../src-main/ipfs/canonicalCid.ts';

const V0 = 'QmPZ9gcCEpqKTo6aq61g2nXGUhM4iCL3ewB6LDXZCtioEB';
const V1 = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi');

describe('canonicalCid', () => {
  it('keeps CIDv0 as Qm… and CIDv1 in base32', () => {
    expect(canonicalCid(V0)).toBe(V0);
    expect(canonicalCid(V1.toString(base32))).toBe(V1.toString(base32));
  });

  it('re-encodes CIDv1 from any other base (js-ipfs files stat answers base58btc zdj7…)', () => {
    const b58 = V1.toString(base58btc);
    expect(b58).toMatch(/^z/);
    expect(canonicalCid(b58)).toBe(V1.toString(base32));
    expect(canonicalCid(V1.toString(base36))).toBe(V1.toString(base32));
    expect(canonicalCid(V1.toString(base32).toUpperCase())).toBe(V1.toString(base32));
  });

  it('a multibase-prefixed CIDv0 (zQm…) stays CIDv0', () => {
    expect(canonicalCid(`z${V0}`)).toBe(V0);
  });

  it('is undefined for text that is no CID', () => {
    expect(canonicalCid('')).toBeUndefined();
    expect(canonicalCid('not a cid')).toBeUndefined();
    expect(canonicalCid('zzzz')).toBeUndefined();
  });
});
