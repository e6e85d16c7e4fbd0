import { describe, expect, it } from 'vitest';
import { ContentPathError } from '../../../src-shared/contentPath.ts';
import { defaultMountpoint, findContentIn, folderNameFor, SourceError, understandSource } from '../../../src-shared/sourceInput.ts';

const V1 = 'bafybeihnqohtjaxafnn54bqe7bztaibdprkl6gzdcccv4t6ela2qosqg7i';
const V0 = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG';

describe('understandSource', () => {
  it.each([
    [V1, `/ipfs/${V1}`, 'cid', `IPFS bafy…qg7i`],
    [`/ipfs/${V1}/docs`, `/ipfs/${V1}/docs`, 'path', 'IPFS bafy…qg7i/docs'],
    [`ipfs://${V1}/docs`, `/ipfs/${V1}/docs`, 'native link', 'IPFS bafy…qg7i/docs (from a native link)'],
    [`https://ipfs.io/ipfs/${V1}/docs?filename=x`, `/ipfs/${V1}/docs`, 'gateway link', 'IPFS bafy…qg7i/docs (from a gateway link)'],
    [`https://${V1}.ipfs.dweb.link/docs`, `/ipfs/${V1}/docs`, 'subdomain gateway link', 'IPFS bafy…qg7i/docs (from a subdomain gateway link)'],
    [`  ${V0}  `, `/ipfs/${V0}`, 'cid', 'IPFS QmYw…bdG'.replace('bdG', 'PbdG')],
  ])('understands %s as IPFS content', (text, root, origin, label) => {
    const g = understandSource(text);
    expect(g).toMatchObject({ kind: 'ipfs', root, origin, label });
  });

  it('names the mount after the last path segment, the filename, or the short CID', () => {
    expect(understandSource(`/ipfs/${V1}/docs`).suggestedName).toBe('docs');
    expect(understandSource(`https://ipfs.io/ipfs/${V1}?filename=site.tar`).suggestedName).toBe('site.tar');
    expect(understandSource(V1).suggestedName).toBe('bafy…qg7i');
  });

  it('turns any base of a CIDv1 into base32', () => {
    const b58 = 'zdj7WWeQ43G6JJvLWQWZpyHuAMq6uYWRjkBXFad11vE2LHhQ7';
    const g = understandSource(b58);
    expect(g.kind).toBe('ipfs');
    expect(g.kind === 'ipfs' && g.cid.startsWith('bafy')).toBe(true);
  });

  it('understands IPNS names and links', () => {
    expect(understandSource('ipns://en.wikipedia-on-ipfs.org/wiki')).toMatchObject({
      kind: 'ipns',
      name: 'en.wikipedia-on-ipfs.org/wiki',
      label: 'IPNS name en.wikipedia-on-ipfs.org/wiki (from a native link)',
      suggestedName: 'wiki',
    });
    expect(understandSource('/ipns/example.org')).toMatchObject({ kind: 'ipns', name: 'example.org', suggestedName: 'example.org' });
  });

  it.each([
    ['nfs://10.0.0.2/export/media', '/ip4/10.0.0.2/tcp/2049', '/export/media', 'NFS share /export/media on 10.0.0.2', 'media'],
    ['nfs://nas.local:20490/', '/dns/nas.local/tcp/20490', '/', 'NFS share / on nas.local:20490', 'nas.local'],
    ['10.0.0.2:/srv', '/ip4/10.0.0.2/tcp/2049', '/srv', 'NFS share /srv on 10.0.0.2', 'srv'],
    ['/ip4/127.0.0.1/tcp/2049', '/ip4/127.0.0.1/tcp/2049', '/', 'NFS share / on 127.0.0.1:2049', '127.0.0.1'],
    ['/ip4/127.0.0.1/tcp/20490:/export', '/ip4/127.0.0.1/tcp/20490', '/export', 'NFS share /export on 127.0.0.1:20490', 'export'],
  ])('understands %s as an NFS share', (text, server, exp, label, name) => {
    expect(understandSource(text)).toEqual({ kind: 'nfs', server, export: exp, label, suggestedName: name });
  });

  it('understands local folders, also as file:// URLs', () => {
    expect(understandSource('/srv/share/')).toEqual({ kind: 'local', path: '/srv/share', label: 'Local folder /srv/share', suggestedName: 'share' });
    expect(understandSource('file:///home/ana/My%20Docs')).toMatchObject({ kind: 'local', path: '/home/ana/My Docs', suggestedName: 'My Docs' });
  });

  it('refuses what it cannot mount, saying what it expected', () => {
    expect(() => understandSource('')).toThrow(SourceError);
    expect(() => understandSource('hello world')).toThrow(/not something Berth can mount.*expected a CID/);
    expect(() => understandSource('/ipfs/nope')).toThrow(ContentPathError);
    expect(() => understandSource('/srv/../etc')).toThrow(/cannot contain "\.\."/);
    expect(() => understandSource('nfs://')).toThrow(/expected nfs:\/\/host\/export/);
    expect(() => understandSource('/ip4/300.1.1.1/tcp/2049')).toThrow(SourceError);
  });
});

describe('findContentIn', () => {
  it('finds a CID or link inside dropped text', () => {
    expect(findContentIn(`see https://example.org/x and ipfs://${V1}/a.txt, thanks`)).toMatchObject({ kind: 'ipfs', root: `/ipfs/${V1}/a.txt` });
    expect(findContentIn(`# uri-list\nhttps://dweb.link/ipfs/${V0}\n`)).toMatchObject({ kind: 'ipfs', root: `/ipfs/${V0}` });
    expect(findContentIn(`the cid is ${V1}.`)).toMatchObject({ kind: 'ipfs', cid: V1 });
  });
  it('finds nothing in text without content', () => {
    expect(findContentIn('https://example.org/ipfs-is-cool and bafynotacid')).toBeUndefined();
    expect(findContentIn('')).toBeUndefined();
  });
});

describe('mount point names', () => {
  it('makes a safe folder name', () => {
    expect(folderNameFor('bafy…qg7i')).toBe('bafy-qg7i');
    expect(folderNameFor('a/b')).toBe('a-b');
    expect(folderNameFor('..hidden')).toBe('hidden');
    expect(folderNameFor('   ')).toBe('mount');
  });
  it('joins the default folder and the name', () => {
    expect(defaultMountpoint('/home/ana/Berth/', 'Site docs')).toBe('/home/ana/Berth/Site docs');
  });
});
