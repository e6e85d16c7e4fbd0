import { beforeAll, describe, expect, it } from 'vitest';
import { CID } from 'multiformats/cid';
import { base16 } from 'multiformats/bases/base16';
import { base32 } from 'multiformats/bases/base32';
import { base36 } from 'multiformats/bases/base36';
import { base58btc } from 'multiformats/bases/base58';
import { base64 } from 'multiformats/bases/base64';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import {
  ContentPathError,
  decodeDnsLabel,
  encodeDnsLabel,
  formatContentPath,
  MAX_CONTENT_PATH_LENGTH,
  parseContentPath,
  type ContentPath,
} from '../../../src-shared/contentPath.ts';

// CIDs are computed here from real bytes, not pasted: sha256 of a fixed text.
let v0: CID; // dag-pb CIDv0 (Qm…)
let v1: CID; // the same digest as CIDv1 dag-pb
let rawV1: CID; // raw-leaf CIDv1
const DAG_PB = 0x70;

beforeAll(async () => {
  const digest = await sha256.digest(new TextEncoder().encode('hello berth\n'));
  v0 = CID.createV0(digest);
  v1 = CID.createV1(DAG_PB, digest);
  rawV1 = CID.createV1(raw.code, digest);
});

function ipfs(cp: ContentPath): { cid: string; path: string[]; filename?: string } {
  if (cp.namespace !== 'ipfs') throw new Error(`expected an ipfs path, got ${cp.namespace}`);
  return { cid: cp.cid.toString(), path: cp.path, ...(cp.filename === undefined ? {} : { filename: cp.filename }) };
}

describe('parseContentPath: CIDs in every spelling', () => {
  const cases: Array<[string, () => string, () => CID]> = [
    ['CIDv0 (base58btc, Qm…)', () => v0.toString(), () => v0],
    ['CIDv1 base32 (bafy…)', () => v1.toString(base32), () => v1],
    ['CIDv1 base32 upper (BAFY…)', () => v1.toString(base32).toUpperCase(), () => v1],
    ['CIDv1 base36 (k…)', () => v1.toString(base36), () => v1],
    ['CIDv1 base58btc (z…)', () => v1.toString(base58btc), () => v1],
    ['CIDv1 base16 (f…)', () => v1.toString(base16), () => v1],
    ['CIDv1 base64 (m…)', () => v1.toString(base64), () => v1],
    ['raw CIDv1 (bafk…)', () => rawV1.toString(), () => rawV1],
  ];
  it.each(cases)('%s', (_name, text, want) => {
    const cp = parseContentPath(text());
    expect(cp.namespace).toBe('ipfs');
    if (cp.namespace !== 'ipfs') return;
    expect(cp.cid.equals(want())).toBe(true);
    expect(cp.cidText).toBe(text());
    expect(cp.path).toEqual([]);
  });

  it('keeps the CID as the user wrote it and formats canonically', () => {
    const cp = parseContentPath(`/ipfs/${v1.toString(base36)}/a`);
    expect(cp.namespace === 'ipfs' && cp.cidText).toBe(v1.toString(base36));
    expect(formatContentPath(cp)).toBe(`/ipfs/${v1.toString()}/a`);
  });
});

describe('parseContentPath: paths and URLs', () => {
  const good: Array<[string, () => string, () => { cid: string; path: string[]; filename?: string }]> = [
    ['bare CID with a path', () => `${v1}/docs/a.txt`, () => ({ cid: `${v1}`, path: ['docs', 'a.txt'] })],
    ['/ipfs/ path', () => `/ipfs/${v0}/a/b`, () => ({ cid: `${v0}`, path: ['a', 'b'] })],
    ['/ipfs/ path with a trailing slash', () => `/ipfs/${v0}/a/`, () => ({ cid: `${v0}`, path: ['a'] })],
    ['surrounding whitespace', () => `  /ipfs/${v0}/a \n`, () => ({ cid: `${v0}`, path: ['a'] })],
    ['"." and empty segments dropped', () => `/ipfs/${v1}//./a/./b`, () => ({ cid: `${v1}`, path: ['a', 'b'] })],
    ['".." inside the content', () => `/ipfs/${v1}/a/../b`, () => ({ cid: `${v1}`, path: ['b'] })],
    ['content path is literal (no percent-decoding)', () => `/ipfs/${v1}/100%25 done`, () => ({ cid: `${v1}`, path: ['100%25 done'] })],
    ['/ipfs/ path with a trailing ?filename=', () => `/ipfs/${v1}/a.bin?filename=b%20c.bin`, () => ({ cid: `${v1}`, path: ['a.bin'], filename: 'b c.bin' })],
    ['bare CID with ?filename=', () => `${v0}?filename=x.txt`, () => ({ cid: `${v0}`, path: [], filename: 'x.txt' })],
    ['other "?" in a content path stays literal', () => `/ipfs/${v1}/what?.txt`, () => ({ cid: `${v1}`, path: ['what?.txt'] })],
    ['ipfs:// native URL', () => `ipfs://${v1}/a%20b/c`, () => ({ cid: `${v1}`, path: ['a b', 'c'] })],
    ['ipfs:// with filename', () => `ipfs://${v1}?filename=x.txt`, () => ({ cid: `${v1}`, path: [], filename: 'x.txt' })],
    ['path gateway URL', () => `https://ipfs.io/ipfs/${v0}/wiki/Index.html`, () => ({ cid: `${v0}`, path: ['wiki', 'Index.html'] })],
    ['path gateway URL on loopback with port', () => `http://127.0.0.1:8080/ipfs/${v1}/x`, () => ({ cid: `${v1}`, path: ['x'] })],
    ['path gateway on a host containing "ipfs"', () => `https://gateway.ipfs.io/ipfs/${v1}/x`, () => ({ cid: `${v1}`, path: ['x'] })],
    [
      'path gateway URL with ?filename= and a fragment',
      () => `https://ipfs.io/ipfs/${v1}/f%C3%A9e.bin?download=true&filename=my+file%20%C3%A9.bin#top`,
      () => ({ cid: `${v1}`, path: ['fée.bin'], filename: 'my file é.bin' }),
    ],
    ['subdomain gateway URL', () => `https://${v1}.ipfs.dweb.link/a/b`, () => ({ cid: `${v1}`, path: ['a', 'b'] })],
    ['subdomain gateway on localhost:8080', () => `http://${v1.toString(base36)}.ipfs.localhost:8080/`, () => ({ cid: `${v1}`, path: [] })],
  ];
  it.each(good)('%s', (_name, input, want) => {
    expect(ipfs(parseContentPath(input()))).toEqual(want());
  });

  const ipns: Array<[string, string, string, string[]]> = [
    ['/ipns/ DNSLink', '/ipns/en.wikipedia-on-ipfs.org/wiki/', 'en.wikipedia-on-ipfs.org', ['wiki']],
    ['ipns:// native', 'ipns://docs.ipfs.tech/how-to', 'docs.ipfs.tech', ['how-to']],
    ['path gateway /ipns/', 'https://ipfs.io/ipns/docs.ipfs.tech/a', 'docs.ipfs.tech', ['a']],
    ['subdomain DNSLink with "-" and "--"', 'https://en-wikipedia--on--ipfs-org.ipns.dweb.link/wiki', 'en.wikipedia-on-ipfs.org', ['wiki']],
    ['subdomain DNSLink written with dots', 'https://docs.ipfs.tech.ipns.localhost:8080/x', 'docs.ipfs.tech', ['x']],
  ];
  it.each(ipns)('%s', (_name, input, name, path) => {
    expect(parseContentPath(input)).toEqual({ namespace: 'ipns', name, path });
  });

  it('accepts an IPNS key as a peer id, a k51 CID and in a subdomain', async () => {
    const digest = await sha256.digest(new TextEncoder().encode('a key'));
    const key = CID.createV1(0x72, digest).toString(base36);
    expect(parseContentPath(`/ipns/${key}/a`)).toEqual({ namespace: 'ipns', name: key, path: ['a'] });
    expect(parseContentPath(`https://${key}.ipns.dweb.link/`)).toEqual({ namespace: 'ipns', name: key, path: [] });
    const peerId = base58btc.baseEncode(digest.bytes); // how an RSA peer id (Qm…) is written
    expect(parseContentPath(`/ipns/${peerId}`)).toMatchObject({ namespace: 'ipns', name: peerId });
  });

  it('round-trips through formatContentPath', () => {
    for (const text of [`/ipfs/${v0}`, `/ipfs/${v1}/a/b c`, '/ipns/example.org/x']) {
      expect(formatContentPath(parseContentPath(text))).toBe(text);
    }
  });
});

describe('parseContentPath: bad input says what was expected', () => {
  const bad: Array<[string, () => string, RegExp]> = [
    ['garbage', () => 'xyz', /not a CID or content path: "xyz": expected a CID \(Qm… or bafy…\), \/ipfs\/<cid>\/…/],
    ['empty string', () => '', /empty content path: expected a CID/],
    ['only whitespace', () => '  \t\n', /empty content path/],
    ['a 10 kB string', () => `/ipfs/${'a'.repeat(10_240)}`, new RegExp(`too long \\(10246 characters, at most ${MAX_CONTENT_PATH_LENGTH}\\)`)],
    ['NUL byte', () => `/ipfs/${v1}/a\0b`, /NUL byte/],
    ['control character', () => `/ipfs/${v1}/a\u0007b`, /control character/],
    ['".." escaping the CID', () => `/ipfs/${v1}/a/../..`, /climbs above its root with "\.\."/],
    ['".." escaping in a URL (percent-encoded)', () => `https://ipfs.io/ipfs/${v1}/%2e%2e/x`, /climbs above its root/],
    ['encoded "/" in a segment', () => `ipfs://${v1}/a%2Fb`, /encoded "\/"/],
    ['bad percent-encoding', () => `ipfs://${v1}/%zz`, /bad percent-encoding/],
    ['truncated CID', () => `/ipfs/${v0.toString().slice(0, 20)}`, /not a CID after \/ipfs\/: "Qm.*": expected a CID like Qm… \(v0\)/],
    ['/ipfs/ without a CID', () => '/ipfs/', /missing CID after \/ipfs\//],
    ['unknown namespace', () => `/ipld/${v1}`, /a path must start with \/ipfs\/ or \/ipns\//],
    ['plain folder path', () => '/home/ana/file', /a path must start with \/ipfs\/ or \/ipns\//],
    ['bad IPNS name', () => '/ipns/not_a_name', /not an IPNS name: "not_a_name": expected a key \(k51…, 12D3KooW…\) or a DNSLink domain/],
    ['URL that is not a gateway URL', () => 'https://example.org/some/page', /gateway URL without \/ipfs\/ or \/ipns\//],
    ['subdomain with a bad CID', () => 'https://notacid.ipfs.dweb.link/', /not a CID in the subdomain: "notacid"/],
    ['URL without a host', () => 'https:///ipfs/x', /URL has no host/],
    ['bad ?filename=', () => `ipfs://${v1}?filename=a/b`, /bad filename "a\/b"/],
  ];
  it.each(bad)('%s', (_name, input, message) => {
    let thrown: unknown;
    try {
      parseContentPath(input());
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ContentPathError);
    expect((thrown as Error).message).toMatch(message);
    // Error messages never echo a huge input back.
    expect((thrown as Error).message.length).toBeLessThan(400);
  });

  it('refuses non-string input with the same message', () => {
    expect(() => parseContentPath(42 as unknown as string)).toThrow(ContentPathError);
  });
});

describe('DNSLink subdomain labels', () => {
  it.each([
    ['en.wikipedia-on-ipfs.org', 'en-wikipedia--on--ipfs-org'],
    ['docs.ipfs.tech', 'docs-ipfs-tech'],
    ['a-b.c--d.example', 'a--b-c----d-example'],
  ])('%s <-> %s', (name, label) => {
    expect(encodeDnsLabel(name)).toBe(label);
    expect(decodeDnsLabel(label)).toBe(name);
  });
});
