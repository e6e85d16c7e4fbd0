import { CID } from 'multiformats/cid';

// Just enough protobuf to read a dag-pb node and its UnixFS data: type, size, mode,
// mtime, symlink target and plain-directory links. Written here rather than importing
// @ipld/dag-pb / ipfs-unixfs because those are only transitive dependencies whose
// versions differ between kubo-rpc-client and the js-ipfs test peer.

/** UnixFS node types (unixfs.proto DataType). */
export type UnixfsType = 'raw' | 'directory' | 'file' | 'metadata' | 'symlink' | 'hamt-sharded-directory';

const TYPES: readonly UnixfsType[] = ['raw', 'directory', 'file', 'metadata', 'symlink', 'hamt-sharded-directory'];

/** One link of a dag-pb node. */
export interface PbLink {
  name: string;
  cid: string;
  tsize: number;
}

/** A decoded dag-pb node. */
export interface PbNode {
  data?: Uint8Array;
  links: PbLink[];
}

/** The fields of UnixFS data Berth uses. */
export interface UnixfsData {
  type: UnixfsType;
  data?: Uint8Array;
  filesize?: number;
  blocksizes: number[];
  mode?: number;
  /** Milliseconds since the epoch. */
  mtimeMs?: number;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new Error('varint too long');
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

const utf8 = new TextDecoder();

/** Decodes a dag-pb block (throws on malformed input). */
export function decodeDagPb(block: Uint8Array): PbNode {
  const r = new Reader(block);
  const node: PbNode = { links: [] };
  while (!r.done) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 2) node.data = r.bytes();
    else if (field === 2 && wire === 2) node.links.push(decodeLink(r.bytes()));
    else r.skip(wire);
  }
  return node;
}

function decodeLink(buf: Uint8Array): PbLink {
  const r = new Reader(buf);
  let cid = '';
  let name = '';
  let tsize = 0;
  while (!r.done) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 2) cid = CID.decode(r.bytes()).toString();
    else if (field === 2 && wire === 2) name = utf8.decode(r.bytes());
    else if (field === 3 && wire === 0) tsize = r.varint();
    else r.skip(wire);
  }
  return { name, cid, tsize };
}

/** Decodes UnixFS data (the Data field of a dag-pb node). */
export function decodeUnixfs(buf: Uint8Array): UnixfsData {
  const r = new Reader(buf);
  const out: UnixfsData = { type: 'raw', blocksizes: [] };
  while (!r.done) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 0) out.type = TYPES[r.varint()] ?? 'raw';
    else if (field === 2 && wire === 2) out.data = r.bytes();
    else if (field === 3 && wire === 0) out.filesize = r.varint();
    else if (field === 4 && wire === 0) out.blocksizes.push(r.varint());
    else if (field === 4 && wire === 2) {
      const p = new Reader(r.bytes());
      while (!p.done) out.blocksizes.push(p.varint());
    } else if (field === 7 && wire === 0) out.mode = r.varint();
    else if (field === 8 && wire === 2) out.mtimeMs = decodeMtime(r.bytes());
    else r.skip(wire);
  }
  return out;
}

function decodeMtime(buf: Uint8Array): number {
  const r = new Reader(buf);
  let secs = 0;
  let nanos = 0;
  while (!r.done) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 0) secs = r.varint();
    else if (field === 2 && wire === 5) {
      nanos = (r.buf[r.pos]! | (r.buf[r.pos + 1]! << 8) | (r.buf[r.pos + 2]! << 16) | (r.buf[r.pos + 3]! << 24)) >>> 0;
      r.pos += 4;
    } else r.skip(wire);
  }
  return secs * 1000 + Math.floor(nanos / 1e6);
}

/** The file size a UnixFS node describes: filesize, else the sum of its block sizes, else its data. */
export function unixfsSize(u: UnixfsData): number {
  if (u.filesize !== undefined) return u.filesize;
  if (u.blocksizes.length) return u.blocksizes.reduce((a, b) => a + b, 0);
  return u.data?.length ?? 0;
}
