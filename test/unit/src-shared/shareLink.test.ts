import { beforeAll, describe, expect, it } from 'vitest';
import { CID } from 'multiformats/cid';
import { base32 } from 'multiformats/bases/base32';
import { base36 } from 'multiformats/bases/base36';
import { base58btc } from 'multiformats/bases/base58';
import * as raw from 'multiformats/codecs/raw';
import { identity } from 'multiformats/hashes/identity';
import { sha256, sha512 } from 'multiformats/hashes/sha2';
import { parseContentPath } from '../../../src-shared/contentPath.ts';
import { buildShareLink, DEFAULT_GATEWAYS, formatShareLink, ShareLinkError } from '../../../src-shared/shareLink.ts';

const DAG_PB = 0x70;
const LIBP2P_KEY = 0x72;
let v0: CID;
let v1b32: string;
let v1b36: string;
let longCid: CID; // sha512: its base32 and base36 forms both exceed 63 characters
let midCid: CID; // base32 exceeds 63 characters but base36 fits
let peerId: string; // an Ed25519 peer id, 12D3KooW…
let peerKeyB36: string; // the same key as CIDv1 libp2p-key in base36, k51…

beforeAll(async () => {
  const bytes = new TextEncoder().encode('share me\n');
  const digest = await sha256.digest(bytes);
  v0 = CID.createV0(digest);
  v1b32 = v0.toV1().toString(base32);
  v1b36 = v0.toV1().toString(base36);
  longCid = CID.createV1(DAG_PB, await sha512.digest(bytes));
  midCid = CID.createV1(raw.code, identity.digest(new Uint8Array(35).fill(7)));
  // A peer id is the identity multihash of the protobuf-encoded public key (type 1 = Ed25519).
  const pubKey = new Uint8Array([0x08, 0x01, 0x12, 0x20, ...new Uint8Array(32).fill(42)]);
  const keyDigest = identity.digest(pubKey);
  peerId = base58btc.baseEncode(keyDigest.bytes);
  peerKeyB36 = CID.createV1(LIBP2P_KEY, keyDigest).toString(base36);
});

describe('buildShareLink: the forms', () => {
  it('computed fixtures look like what users see', () => {
    expect(v0.toString()).toMatch(/^Qm/);
    expect(v1b32).toMatch(/^bafy/);
    expect(peerId).toMatch(/^12D3KooW/);
    expect(peerKeyB36).toMatch(/^k51qzi5uqu5d/);
    expect(midCid.toString(base32).length).toBeGreaterThan(63);
    expect(midCid.toString(base36).length).toBeLessThanOrEqual(63);
  });

  it('native: ipfs://<cidv1 base32>/path, even from a CIDv0', () => {
    expect(formatShareLink(`/ipfs/${v0}/a b/c`, { form: 'native' })).toBe(`ipfs://${v1b32}/a%20b/c`);
  });

  it('path: keeps the CID as given (v0 allowed) on the default public gateway', () => {
    expect(buildShareLink(`/ipfs/${v0}/docs`, { form: 'path' })).toEqual({
      url: `https://ipfs.io/ipfs/${v0}/docs`,
      form: 'path',
    });
    expect(formatShareLink(`ipfs://${v1b36}`, { form: 'path' })).toBe(`https://ipfs.io/ipfs/${v1b36}`);
  });

  it('path: local gateway, trailing slash, ?filename= encoded', () => {
    expect(formatShareLink(`${v0}/r.txt`, { form: 'path', gateway: `${DEFAULT_GATEWAYS.local.path}/`, filename: 'rapport é 1.txt' })).toBe(
      `http://127.0.0.1:8080/ipfs/${v0}/r.txt?filename=rapport%20%C3%A9%201.txt`,
    );
  });

  it('path: a filename from a pasted gateway URL is kept', () => {
    const cp = parseContentPath(`https://dweb.link/ipfs/${v0}?filename=a.pdf`);
    expect(formatShareLink(cp, { form: 'path' })).toBe(`https://ipfs.io/ipfs/${v0}?filename=a.pdf`);
  });

  it('path: characters that need escaping in a path are escaped, legal ones are kept', () => {
    expect(formatShareLink(`/ipfs/${v0}/a?b#c/x:y@z+1,2`, { form: 'path' })).toBe(`https://ipfs.io/ipfs/${v0}/a%3Fb%23c/x:y@z+1,2`);
  });

  it('subdomain: https://<cidv1 b32>.ipfs.<host>/path on dweb.link and localhost', () => {
    expect(buildShareLink(`/ipfs/${v0}/a`, { form: 'subdomain' })).toEqual({
      url: `https://${v1b32}.ipfs.dweb.link/a`,
      form: 'subdomain',
    });
    expect(formatShareLink(`/ipfs/${v0}`, { form: 'subdomain', gateway: DEFAULT_GATEWAYS.local.subdomain })).toBe(
      `http://${v1b32}.ipfs.localhost:8080/`,
    );
  });

  it('subdomain: uses base36 when base32 does not fit in one label', () => {
    expect(formatShareLink(`/ipfs/${midCid}`, { form: 'subdomain' })).toBe(`https://${midCid.toString(base36)}.ipfs.dweb.link/`);
  });
});

describe('buildShareLink: subdomain falls back to a path link', () => {
  it('when the CID does not fit in a 63-character label', () => {
    const link = buildShareLink(`/ipfs/${longCid}/f`, { form: 'subdomain' });
    expect(link.form).toBe('path');
    expect(link.url).toBe(`https://dweb.link/ipfs/${longCid}/f`);
    expect(link.fallbackReason).toMatch(/63-character DNS label/);
  });

  it.each([
    ['IPv4 gateway', 'http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['IPv6 gateway', 'http://[::1]:8080', 'http://[::1]:8080'],
    ['gateway with a path prefix', 'https://example.org/gw/', 'https://example.org/gw'],
  ])('when the gateway is an %s', (_name, gateway, base) => {
    const link = buildShareLink(`/ipfs/${v0}/x`, { form: 'subdomain', gateway });
    expect(link).toMatchObject({ form: 'path', url: `${base}/ipfs/${v0}/x` });
    expect(link.fallbackReason).toBeTruthy();
  });

  it('when a DNSLink name is too long for one label', () => {
    const name = `${'a'.repeat(40)}.${'b'.repeat(30)}.org`;
    expect(buildShareLink(`/ipns/${name}`, { form: 'subdomain' })).toMatchObject({ form: 'path', url: `https://dweb.link/ipns/${name}` });
  });
});

describe('buildShareLink: IPNS', () => {
  it('a peer id becomes a base36 libp2p-key CID in subdomain and native links', () => {
    expect(formatShareLink(`/ipns/${peerId}/a`, { form: 'subdomain' })).toBe(`https://${peerKeyB36}.ipns.dweb.link/a`);
    expect(formatShareLink(`/ipns/${peerId}`, { form: 'native' })).toBe(`ipns://${peerKeyB36}`);
    // Path links keep the name as given.
    expect(formatShareLink(`/ipns/${peerId}`, { form: 'path' })).toBe(`https://ipfs.io/ipns/${peerId}`);
  });

  it('a DNSLink name is inlined with "-" and "--" in a subdomain link', () => {
    expect(formatShareLink('/ipns/en.wikipedia-on-ipfs.org/wiki/', { form: 'subdomain' })).toBe(
      'https://en-wikipedia--on--ipfs-org.ipns.dweb.link/wiki',
    );
    expect(formatShareLink('/ipns/en.wikipedia-on-ipfs.org', { form: 'native' })).toBe('ipns://en.wikipedia-on-ipfs.org');
  });

  it('a subdomain link parses back to the same content', () => {
    for (const text of [`/ipns/${peerKeyB36}/x`, '/ipns/en.wikipedia-on-ipfs.org/wiki', `/ipfs/${v1b32}/a b`]) {
      const cp = parseContentPath(text);
      const back = parseContentPath(formatShareLink(cp, { form: 'subdomain' }));
      expect(back).toMatchObject({ namespace: cp.namespace, path: cp.path });
    }
  });
});

describe('buildShareLink: bad input', () => {
  it.each(['ftp://example.org', 'dweb.link', 'https://', 'https://a b.org'])('refuses gateway %j', (gateway) => {
    expect(() => formatShareLink(`/ipfs/${v0}`, { form: 'path', gateway })).toThrow(
      new ShareLinkError(`not a gateway: ${JSON.stringify(gateway)}: expected an origin like https://dweb.link or http://127.0.0.1:8080`),
    );
  });

  it('refuses content it cannot parse, with the parser message', () => {
    expect(() => formatShareLink('nope', { form: 'native' })).toThrow(/not a CID or content path: "nope": expected/);
  });

  it('refuses an unknown form', () => {
    expect(() => formatShareLink(`/ipfs/${v0}`, { form: 'gopher' as 'path' })).toThrow(/expected native, path or subdomain/);
  });
});
