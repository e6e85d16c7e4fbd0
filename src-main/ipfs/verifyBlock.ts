import { CID } from 'multiformats/cid';
import { identity } from 'multiformats/hashes/identity';
import { sha256, sha512 } from 'multiformats/hashes/sha2';
import { FsError } from '../vfs/FsError.ts';

// Every block Berth takes from outside its own blockstore (a gateway, a CAR stream from a
// node) is checked against its CID before anything reads it: a wrong block is an EIO,
// never wrong bytes. The hashers are multiformats' own; a CID hashed with anything else
// is refused rather than trusted.

const HASHERS = new Map<number, { name: string; digest(b: Uint8Array): Promise<{ bytes: Uint8Array }> | { bytes: Uint8Array } }>([
  [sha256.code, sha256],
  [sha512.code, sha512],
  [identity.code, identity],
]);

/** A block whose bytes are not what its CID names (kind IO): the node's fault, never the reader's; callers may log it. */
export class BadBlockError extends FsError {
  constructor(message: string) {
    super('IO', message);
  }
}

/** Throws BadBlockError (an FsError IO) unless `bytes` hash to `cid`'s multihash; `from` says where the block came from. */
export async function verifyBlock(cid: CID, bytes: Uint8Array, from: string): Promise<void> {
  const hasher = HASHERS.get(cid.multihash.code);
  if (!hasher) {
    throw new BadBlockError(`block ${cid} from ${from}: its hash function 0x${cid.multihash.code.toString(16)} is not one Berth can verify (sha2-256, sha2-512, identity)`);
  }
  const got = (await hasher.digest(bytes)).bytes;
  const want = cid.multihash.bytes;
  if (got.length !== want.length || !got.every((b, i) => b === want[i])) {
    throw new BadBlockError(`block ${cid} from ${from} failed verification: its ${hasher.name} hash does not match the CID (corrupt or forged data; nothing of it was used)`);
  }
}

/** A CID parsed from whatever CID object or text a library handed over (multiformats versions differ). */
export function asCid(value: unknown): CID {
  const cid = CID.asCID(value);
  if (cid) return cid;
  return CID.parse(String(value));
}
