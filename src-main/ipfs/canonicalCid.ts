import { base32 } from 'multiformats/bases/base32';
import { base58btc } from 'multiformats/bases/base58';
import { tryParseCid } from '../../src-shared/contentPath.ts';

// One text form per CID, whatever base a node answered in (js-ipfs's `files stat`
// prints CIDv1 in base58btc, `zdj7…`, while its `ls` prints base32, `bafy…`): CIDv0 as
// base58btc `Qm…`, CIDv1 as base32 `b…`, the forms Kubo prints by default. Everything
// that shows a CID (user.ipfs.cid, `berth cid`, cache keys) then compares equal.

/** The canonical text of a CID (CIDv0 `Qm…`, CIDv1 base32), or undefined when `text` is not a CID. */
export function canonicalCid(text: string): string | undefined {
  // Fast path, taken for nearly every CID a Kubo node sends (listings run it per entry):
  // `Qm` + 44 base58 characters is CIDv0, a lower-case `b` prefix is base32 already.
  if ((text.length === 46 && text.startsWith('Qm')) || (text.startsWith('b') && /^b[a-z2-7]+$/.test(text))) return text;
  // js-ipfs prints CIDv0 with a multibase prefix when asked for one (`zQm…`), which
  // multiformats does not parse
  const cid = tryParseCid(text.length === 47 && text.startsWith('zQm') ? text.slice(1) : text);
  if (!cid) return undefined;
  // encoded explicitly: CID.toString() hands back the text a CID was parsed from when
  // that was its default base ("zQm…" stays "zQm…")
  return cid.version === 0 ? base58btc.baseEncode(cid.bytes) : cid.toString(base32);
}
