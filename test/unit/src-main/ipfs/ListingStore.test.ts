import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IpfsLsEntry } from '../../../../src-main/ipfs/IpfsNode.ts';
import { decodeListing, encodeListing, ListingStore } from '../../../../src-main/ipfs/ListingStore.ts';

// Real files in a temp folder: format, validation and the byte cap of the on-disk listings.

const CIDS = [
  'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
  'bafybeibml5uieyxa5tufngvg7fgwbkwvlsuntwbxgtskoqynbt7wlchmfm',
  'bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
  'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
];
const entries = (n: number): IpfsLsEntry[] =>
  Array.from({ length: n }, (_, i) => ({ name: `f${i}.txt`, cid: CIDS[0]!, type: i % 3 === 0 ? 'dir' : i % 3 === 1 ? 'file' : 'symlink', size: i, ...(i % 2 ? { mode: 0o644, mtimeMs: 1_700_000_000_500 } : {}) }));

describe('ListingStore', () => {
  let dir: string;
  const logged: string[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-listings-'));
    logged.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('encodes and decodes a listing exactly', () => {
    const e = entries(10);
    expect(decodeListing(CIDS[1]!, encodeListing(CIDS[1]!, e))).toEqual(e);
  });

  it('refuses a changed byte, another version, another CID and malformed rows', () => {
    const good = encodeListing(CIDS[1]!, entries(3));
    const flipped = Buffer.from(good);
    flipped[flipped.length - 5]! ^= 1;
    expect(() => decodeListing(CIDS[1]!, flipped)).toThrow(/checksum/);
    expect(() => decodeListing(CIDS[2]!, good)).toThrow(/holds the listing of/);
    expect(() => decodeListing(CIDS[1]!, Buffer.from(good.toString().replace('berth-listing 1', 'berth-listing 2')))).toThrow(/version 2/);
    expect(() => decodeListing(CIDS[1]!, Buffer.from('{}'))).toThrow(/header/);
    // a well-formed file (right checksum) whose rows are not listings
    const body = Buffer.from(JSON.stringify({ cid: CIDS[1], entries: [['a', 'b', 'constructor', 1, null, null]] }));
    const sum = createHash('sha256').update(body).digest('hex');
    expect(() => decodeListing(CIDS[1]!, Buffer.concat([Buffer.from(`berth-listing 1 ${sum}\n`), body]))).toThrow(/unexpected content/);
  });

  it('reads back what it wrote, by any form of the CID; a bad file is logged, removed and a miss', async () => {
    const store = new ListingStore(dir, 1 << 20, (l) => logged.push(l));
    expect(await store.read(CIDS[3]!)).toBeUndefined();
    await store.write(CIDS[3]!, entries(5));
    expect(await store.read(CIDS[3]!)).toEqual(entries(5));
    const [file] = readdirSync(dir);
    expect(file).toMatch(/^bafy[a-z2-7]+\.lst$/);
    writeFileSync(join(dir, file!), 'garbage');
    expect(await store.read(CIDS[3]!)).toBeUndefined();
    expect(logged.join('\n')).toMatch(/ignoring .*bad header|no header/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps the folder under its cap, the least recently used going first', async () => {
    const one = encodeListing(CIDS[0]!, entries(50)).length;
    const store = new ListingStore(dir, Math.floor(one * 2.5), (l) => logged.push(l));
    await store.write(CIDS[0]!, entries(50));
    await store.write(CIDS[1]!, entries(50));
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    // make the first one the older, then use it: the second becomes the least recently used
    for (const [i, f] of files.entries()) utimesSync(join(dir, f), new Date(1_000_000 + i * 1000), new Date(1_000_000 + i * 1000));
    const first = readdirSync(dir).find((f) => f.startsWith('bafybeigdyrzt'))!;
    utimesSync(join(dir, first), new Date(5_000_000), new Date(5_000_000));
    await store.write(CIDS[2]!, entries(50));
    const left = readdirSync(dir).sort();
    expect(left).toHaveLength(2);
    expect(left.some((f) => f.startsWith('bafybeigdyrzt'))).toBe(true);
    expect(left.some((f) => f.startsWith('bafybeihdwdce'))).toBe(true);
    // a listing larger than the whole cap is never written
    await store.write(CIDS[3]!, entries(1000));
    expect(readdirSync(dir)).toHaveLength(2);
  });
});
