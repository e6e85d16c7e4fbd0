import { describe, expect, it } from 'vitest';
import { hostPortToMultiaddr, MultiaddrError, parseMultiaddr } from '../../../src-shared/multiaddr.ts';

describe('parseMultiaddr: accepted forms', () => {
  it.each([
    ['/ip4/127.0.0.1/tcp/5001', { url: 'http://127.0.0.1:5001', host: '127.0.0.1', port: 5001, protocol: 'http', family: 'ip4' }],
    ['/ip4/127.0.0.1/tcp/0', { url: 'http://127.0.0.1:0', port: 0 }],
    ['/ip4/10.0.0.2/tcp/8080/http', { url: 'http://10.0.0.2:8080', protocol: 'http' }],
    ['/ip6/::1/tcp/5001', { url: 'http://[::1]:5001', host: '::1', family: 'ip6' }],
    ['/ip6/::1/tcp/5001/tls/http', { url: 'https://[::1]:5001', protocol: 'https' }],
    ['/dns/localhost/tcp/5001', { url: 'http://localhost:5001', host: 'localhost', family: 'dns' }],
    ['/dns4/ipfs.example.org/tcp/443/https', { url: 'https://ipfs.example.org:443', protocol: 'https', family: 'dns' }],
    ['/dns6/ipfs.example.org/tcp/5001/http', { url: 'http://ipfs.example.org:5001' }],
    ['  /ip4/127.0.0.1/tcp/5001\n', { port: 5001 }],
  ])('%s', (text, want) => {
    expect(parseMultiaddr(text)).toMatchObject({ kind: 'tcp', ...want });
  });

  it.each([
    ['/unix/run/ipfs/api.sock', '/run/ipfs/api.sock'], // go style: the rest is the path
    ['/unix/%2Frun%2Fipfs%2Fapi.sock', '/run/ipfs/api.sock'], // js style: one encoded component
    ['/unix/tmp/with%20space.sock', '/tmp/with space.sock'],
  ])('%s -> unix socket %s', (text, socketPath) => {
    expect(parseMultiaddr(text)).toEqual({ kind: 'unix', socketPath });
  });
});

describe('parseMultiaddr: bad input says what was expected', () => {
  const expected = 'expected /ip4/<addr>/tcp/<port>, /dns4/<host>/tcp/<port>/https or /unix/<path>';
  it.each([
    ['', /empty multiaddr/],
    ['127.0.0.1:5001', /not a multiaddr: "127.0.0.1:5001"/],
    ['/ip4/127.0.0.1', /unsupported multiaddr "\/ip4\/127.0.0.1" \(ip4\)/],
    ['/ip4/127.0.0.1/udp/5001', /unsupported multiaddr .* \(ip4\/udp\)/],
    ['/ip4/300.0.0.1/tcp/5001', /Invalid IPv4 address/],
    ['/ip4/127.0.0.1/tcp/70000', /not a usable multiaddr/],
    ['/ip4/127.0.0.1/tcp/port', /not a usable multiaddr/],
    ['/nope/1', /not a usable multiaddr: "\/nope\/1"/],
    ['/unix/', /missing socket path/],
    ['/unix/a%ZZ', /bad percent-encoding/],
    ['/unix/a%00b', /NUL byte/],
    ['/ip4/127.0.0.1/tcp/1\0', /NUL byte/],
    ['/'.repeat(2000), /too long/],
  ])('%j', (text, message) => {
    let thrown: unknown;
    try {
      parseMultiaddr(text);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MultiaddrError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).toContain(expected);
  });

  it('names the protocols it takes after /tcp', () => {
    expect(() => parseMultiaddr('/ip4/127.0.0.1/tcp/4001/ws')).toThrow('(/ws): expected nothing, /http, /https or /tls/http');
  });
});

describe('hostPortToMultiaddr', () => {
  it.each([
    ['127.0.0.1', 5001, undefined, '/ip4/127.0.0.1/tcp/5001'],
    ['::1', 0, undefined, '/ip6/::1/tcp/0'],
    ['[::1]', 2049, undefined, '/ip6/::1/tcp/2049'],
    ['ipfs.example.org', 443, 'https' as const, '/dns/ipfs.example.org/tcp/443/https'],
  ])('%s:%i', (host, port, protocol, want) => {
    expect(hostPortToMultiaddr(host, port, protocol)).toBe(want);
    expect(parseMultiaddr(want)).toMatchObject({ kind: 'tcp', port });
  });

  it.each([
    ['127.0.0.1', -1, /bad port -1/],
    ['127.0.0.1', 65536, /bad port 65536/],
    ['127.0.0.1', 1.5, /bad port 1.5/],
    ['', 1, /bad host ""/],
    ['a/b', 1, /bad host "a\/b"/],
    ['999.1.1.1', 1, /Invalid IPv4 address/],
  ])('refuses %j port %s', (host, port, message) => {
    expect(() => hostPortToMultiaddr(host, port)).toThrow(message);
  });
});
