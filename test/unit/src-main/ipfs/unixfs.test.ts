import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { statFromBlock } from '../../../../src-main/ipfs/kubo.ts';
import { decodeDagPb, decodeUnixfs, unixfsSize } from '../../../../src-main/ipfs/unixfs.ts';

// Our small protobuf reader against blocks encoded by the reference libraries.

const LEAF = 'QmZdSwKJoJbv1nWhg56msBkYDRnUTgYuZRg4rZUs9C4VWB';

function block(u: UnixFS, links: Array<{ name: string; cid: string; tsize: number }> = []): Uint8Array {
  return dagPb.encode(
    dagPb.prepare({
      Data: u.marshal(),
      Links: links.map((l) => ({ Name: l.name, Hash: CID.parse(l.cid) as never, Tsize: l.tsize })),
    }),
  );
}

describe('unixfs decoding', () => {
  it('reads a file with data, mode and mtime', () => {
    const b = block(new UnixFS({ type: 'file', data: new TextEncoder().encode('hello'), mode: 0o640, mtime: { secs: 1_600_000_000, nsecs: 5_000_000 } }));
    const pb = decodeDagPb(b);
    const u = decodeUnixfs(pb.data!);
    expect(u.type).toBe('file');
    expect(new TextDecoder().decode(u.data)).toBe('hello');
    expect(u.mode).toBe(0o640);
    expect(u.mtimeMs).toBe(1_600_000_000_005);
    expect(unixfsSize(u)).toBe(5);
  });

  it('reads a chunked file size from blocksizes, and links with names and sizes', () => {
    const u = new UnixFS({ type: 'file' });
    u.addBlockSize(262144);
    u.addBlockSize(1000);
    const b = block(u, [
      { name: '', cid: LEAF, tsize: 262158 },
      { name: '', cid: LEAF, tsize: 1014 },
    ]);
    const s = statFromBlock('x', b);
    expect(s).toMatchObject({ type: 'file', size: 263144 });
    expect(decodeDagPb(b).links).toEqual([
      { name: '', cid: LEAF, tsize: 262158 },
      { name: '', cid: LEAF, tsize: 1014 },
    ]);
  });

  it('tells folders, HAMT shards and symlinks apart', () => {
    const dir = statFromBlock('d', block(new UnixFS({ type: 'directory' }), [{ name: 'café ☕', cid: LEAF, tsize: 21 }]));
    expect(dir.type).toBe('dir');
    expect([...dir.links!]).toEqual([['café ☕', LEAF]]);
    const hamt = statFromBlock('h', block(new UnixFS({ type: 'hamt-sharded-directory', fanout: 256, hashType: 0x22 })));
    expect(hamt).toMatchObject({ type: 'dir', sharded: true });
    expect(hamt.links).toBeUndefined();
    const link = statFromBlock('l', block(new UnixFS({ type: 'symlink', data: new TextEncoder().encode('../a/ü') })));
    expect(link).toMatchObject({ type: 'symlink', target: '../a/ü', size: 7 });
  });

  it('throws on truncated input instead of reading garbage', () => {
    const b = block(new UnixFS({ type: 'file', data: new Uint8Array(100) }));
    expect(() => decodeUnixfs(decodeDagPb(b.subarray(0, 20)).data!)).toThrow();
  });
});
