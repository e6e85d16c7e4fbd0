import { multiaddr } from '@multiformats/multiaddr';

// Multiaddr text -> something a socket or an HTTP client can use. Every `node`, `server` and
// `listen` address in a mount spec goes through here, so they all accept the same forms.
// `/unix/` is read by hand: @multiformats/multiaddr 13 treats its value as ONE
// percent-encoded component, while Kubo's api file writes `/unix/run/ipfs.sock` (go style,
// the rest of the address is the path); we accept both.

/** The forms accepted, quoted in every error message. */
export const MULTIADDR_EXPECTED = 'expected /ip4/<addr>/tcp/<port>, /dns4/<host>/tcp/<port>/https or /unix/<path>';

/** A TCP address: host (IPv6 without brackets), port, and the URL scheme to speak to it. */
export interface TcpAddress {
  kind: 'tcp';
  /** `http://127.0.0.1:5001` (IPv6 in brackets); no trailing slash. */
  url: string;
  host: string;
  port: number;
  protocol: 'http' | 'https';
  /** What the host is: a literal IPv4/IPv6 address or a DNS name. */
  family: 'ip4' | 'ip6' | 'dns';
}

/** A unix domain socket (absolute path). */
export interface UnixAddress {
  kind: 'unix';
  socketPath: string;
}

/** What a multiaddr resolves to. */
export type SocketAddress = TcpAddress | UnixAddress;

/** A multiaddr Berth cannot use; the message says what was expected. */
export class MultiaddrError extends Error {
  override readonly name = 'MultiaddrError';
}

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}

function parseUnix(text: string, rest: string): UnixAddress {
  let path: string;
  try {
    path = decodeURIComponent(rest);
  } catch {
    throw new MultiaddrError(`bad percent-encoding in ${quote(text)}: ${MULTIADDR_EXPECTED}`);
  }
  path = `/${path.replace(/^\/+/, '')}`.replace(/\/+$/, '');
  if (path === '' || path === '/') throw new MultiaddrError(`missing socket path in ${quote(text)}: ${MULTIADDR_EXPECTED}`);
  if (path.includes('\0')) throw new MultiaddrError(`socket path contains a NUL byte: ${MULTIADDR_EXPECTED}`);
  return { kind: 'unix', socketPath: path };
}

/**
 * Parses multiaddr text: /ip4|/ip6|/dns|/dns4|/dns6 + /tcp/N [+ /http | /https | /tls/http],
 * or /unix/<path>. Throws MultiaddrError saying what was expected.
 */
export function parseMultiaddr(text: string): SocketAddress {
  if (typeof text !== 'string') throw new MultiaddrError(`not a multiaddr: ${MULTIADDR_EXPECTED}`);
  if (text.length > 1024) throw new MultiaddrError(`multiaddr is too long (${text.length} characters, at most 1024): ${MULTIADDR_EXPECTED}`);
  const s = text.trim();
  if (s === '') throw new MultiaddrError(`empty multiaddr: ${MULTIADDR_EXPECTED}`);
  if (s.includes('\0')) throw new MultiaddrError(`multiaddr contains a NUL byte: ${MULTIADDR_EXPECTED}`);
  if (!s.startsWith('/')) throw new MultiaddrError(`not a multiaddr: ${quote(s)}: ${MULTIADDR_EXPECTED}`);
  const unix = /^\/unix(?:\/(.*))?$/.exec(s);
  if (unix) return parseUnix(s, unix[1] ?? '');

  let components;
  try {
    components = multiaddr(s).getComponents();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new MultiaddrError(`not a usable multiaddr: ${quote(s)} (${why}): ${MULTIADDR_EXPECTED}`);
  }
  const names = components.map((c) => c.name);
  const [addr, tcp, ...tail] = components;
  const family = addr?.name === 'ip4' ? 'ip4' : addr?.name === 'ip6' ? 'ip6' : /^dns[46]?$/.test(addr?.name ?? '') ? 'dns' : undefined;
  if (!addr || !family || addr.value === undefined || tcp?.name !== 'tcp' || tcp.value === undefined) {
    throw new MultiaddrError(`unsupported multiaddr ${quote(s)} (${names.join('/') || 'nothing'}): ${MULTIADDR_EXPECTED}`);
  }
  const tailText = tail.map((c) => c.name).join('/');
  let protocol: 'http' | 'https';
  if (tailText === '' || tailText === 'http') protocol = 'http';
  else if (tailText === 'https' || tailText === 'tls/http') protocol = 'https';
  else throw new MultiaddrError(`unsupported protocol after /tcp in ${quote(s)} (/${tailText}): expected nothing, /http, /https or /tls/http`);

  const port = Number(tcp.value);
  const host = addr.value;
  const urlHost = family === 'ip6' ? `[${host}]` : host;
  return { kind: 'tcp', url: `${protocol}://${urlHost}:${port}`, host, port, protocol, family };
}

/** The multiaddr for a host and port: /ip4, /ip6 (brackets allowed) or /dns; "/https" when asked. */
export function hostPortToMultiaddr(host: string, port: number, protocol: 'http' | 'https' = 'http'): string {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MultiaddrError(`bad port ${String(port)}: expected a whole number from 0 to 65535`);
  }
  const h = host.trim().replace(/^\[(.*)\]$/, '$1');
  if (h === '' || /[\s/\0]/.test(h)) throw new MultiaddrError(`bad host ${quote(host)}: expected an IP address or a DNS name`);
  const proto = /^\d{1,3}(\.\d{1,3}){3}$/.test(h) ? 'ip4' : h.includes(':') ? 'ip6' : 'dns';
  const text = `/${proto}/${h}/tcp/${port}${protocol === 'https' ? '/https' : ''}`;
  parseMultiaddr(text); // validates the address octets the regexes let through
  return text;
}
