import { base32 } from 'multiformats/bases/base32';
import { base58btc } from 'multiformats/bases/base58';
import type { CID } from 'multiformats/cid';
import { ContentPathError, parseContentPath, type ContentPath } from './contentPath.ts';
import { hostPortToMultiaddr, MultiaddrError, parseMultiaddr } from './multiaddr.ts';

// What a person pastes or drops into the "Source" field, understood in one place: the add
// dialog shows the label while typing, the drop target and the tray's "Mount CID from
// clipboard…" use the same function, so every face accepts the same things and refuses
// the rest with the same words. Content paths go through the one content-path parser.

/** The forms the Source field accepts, quoted in its error messages. */
export const SOURCE_EXPECTED =
  'expected a CID, /ipfs/… or /ipns/… path, ipfs:// link, gateway URL, an NFS share (nfs://host/export or host:/export) or a local folder (/path)';

/** Where each content guess came from, for the "what Berth understood" line. */
export type SourceOrigin = 'cid' | 'path' | 'native link' | 'gateway link' | 'subdomain gateway link';

/** What Berth understood from a Source text: the guest to mount, and words for the user. */
export type SourceGuess =
  | { kind: 'ipfs'; root: string; cid: string; origin: SourceOrigin; label: string; suggestedName: string }
  | { kind: 'ipns'; name: string; origin: SourceOrigin; label: string; suggestedName: string }
  | { kind: 'nfs'; server: string; export: string; label: string; suggestedName: string }
  | { kind: 'local'; path: string; label: string; suggestedName: string };

/** Source text Berth cannot mount; the message says what was expected. */
export class SourceError extends Error {
  override readonly name = 'SourceError';
}

/** The text form Kubo prints: CIDv0 `Qm…`, CIDv1 base32 (whatever base the user pasted). */
function cidText(cid: CID): string {
  return cid.version === 0 ? base58btc.baseEncode(cid.bytes) : cid.toString(base32);
}

/** "bafy…qg7i": enough of a CID to recognise it. */
export function shortCid(cid: string): string {
  return cid.length <= 12 ? cid : `${cid.slice(0, 4)}…${cid.slice(-4)}`;
}

function originOf(text: string): SourceOrigin {
  const t = text.trim().toLowerCase();
  if (t.startsWith('ipfs://') || t.startsWith('ipns://')) return 'native link';
  if (/^https?:\/\/[^/]+\.(ipfs|ipns)\./.test(t)) return 'subdomain gateway link';
  if (/^https?:\/\//.test(t)) return 'gateway link';
  if (t.startsWith('/')) return 'path';
  return 'cid';
}

function fromContent(cp: ContentPath, text: string): SourceGuess {
  const origin = originOf(text);
  const via = origin === 'cid' || origin === 'path' ? '' : ` (from a ${origin})`;
  const sub = cp.path.length ? `/${cp.path.join('/')}` : '';
  if (cp.namespace === 'ipfs') {
    const cid = cidText(cp.cid);
    const last = cp.path.at(-1);
    return {
      kind: 'ipfs',
      root: `/ipfs/${cid}${sub}`,
      cid,
      origin,
      label: `IPFS ${shortCid(cid)}${sub}${via}`,
      suggestedName: cp.filename ?? last ?? shortCid(cid),
    };
  }
  return {
    kind: 'ipns',
    name: `${cp.name}${sub}`,
    origin,
    label: `IPNS name ${cp.name.length > 24 ? shortCid(cp.name) : cp.name}${sub}${via}`,
    suggestedName: cp.path.at(-1) ?? (cp.name.includes('.') ? cp.name : shortCid(cp.name)),
  };
}

function nfsGuess(server: string, exp: string, hostLabel: string): SourceGuess {
  const clean = `/${exp.split('/').filter((s) => s !== '' && s !== '.').join('/')}`;
  if (clean.split('/').includes('..')) throw new SourceError(`an NFS export path cannot contain "..": ${JSON.stringify(exp.slice(0, 80))}`);
  const last = clean.split('/').filter(Boolean).at(-1);
  return { kind: 'nfs', server, export: clean, label: `NFS share ${clean} on ${hostLabel}`, suggestedName: last ?? hostLabel.replace(/:\d+$/, '') };
}

function decodePath(raw: string, input: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new SourceError(`bad percent-encoding in ${JSON.stringify(input.slice(0, 80))}: expected %XX escapes of UTF-8 bytes`);
  }
}

/** Parses `nfs://host[:port]/export` (RFC 2224 URL form). */
function parseNfsUrl(s: string): SourceGuess {
  const m = /^nfs:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[^?#]*)?$/i.exec(s);
  if (!m) throw new SourceError(`not an NFS URL: ${JSON.stringify(s.slice(0, 80))}: expected nfs://host/export or nfs://host:2049/export`);
  const host = m[1]!;
  const port = m[2] ? Number(m[2]) : 2049;
  let server: string;
  try {
    server = hostPortToMultiaddr(host, port);
  } catch (err) {
    throw new SourceError((err as Error).message);
  }
  return nfsGuess(server, decodePath(m[3] ?? '/', s), `${host}${port === 2049 ? '' : `:${port}`}`);
}

/**
 * Understands one Source text: a CID or content path or link (through the one
 * content-path parser), an NFS share (`nfs://host[:port]/export`, `host:/export`, or a
 * server multiaddr `/ip4/…/tcp/2049[:/export]`), a local folder (`/path`, `file:///path`).
 * Throws SourceError (or ContentPathError for a broken content path) saying what was expected.
 */
export function understandSource(text: string): SourceGuess {
  if (typeof text !== 'string') throw new SourceError(`nothing to mount: ${SOURCE_EXPECTED}`);
  const s = text.trim();
  if (s === '') throw new SourceError(`empty source: ${SOURCE_EXPECTED}`);
  if (s.length > 8192) throw new SourceError(`source is too long (${s.length} characters, at most 8192): ${SOURCE_EXPECTED}`);
  if (s.includes('\0')) throw new SourceError('source contains a NUL byte');
  const lower = s.toLowerCase();
  if (lower.startsWith('nfs://')) return parseNfsUrl(s);
  if (lower.startsWith('file://')) {
    const m = /^file:\/\/(?:localhost)?(\/[^?#]*)$/i.exec(s);
    if (!m) throw new SourceError(`not a local file URL: ${JSON.stringify(s.slice(0, 80))}: expected file:///path/to/folder`);
    return understandSource(decodePath(m[1]!, s));
  }
  const ma = /^(\/(?:ip4|ip6|dns|dns4|dns6)\/[^/]+\/tcp\/\d+)(?::(\/.*))?$/.exec(s);
  if (ma) {
    try {
      const addr = parseMultiaddr(ma[1]!);
      const hostLabel = addr.kind === 'tcp' ? `${addr.family === 'ip6' ? `[${addr.host}]` : addr.host}:${addr.port}` : ma[1]!;
      return nfsGuess(ma[1]!, ma[2] ?? '/', hostLabel);
    } catch (err) {
      if (err instanceof MultiaddrError) throw new SourceError(err.message);
      throw err;
    }
  }
  const classic = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\/.*)$/.exec(s);
  if (classic && !/^(ipfs|ipns|https?|dweb)$/i.test(classic[1]!)) {
    let server: string;
    try {
      server = hostPortToMultiaddr(classic[1]!, 2049);
    } catch (err) {
      throw new SourceError((err as Error).message);
    }
    return nfsGuess(server, classic[2]!, classic[1]!);
  }
  if (s.startsWith('/') && !/^\/(ipfs|ipns)(\/|$)/.test(s)) {
    const parts = s.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw new SourceError(`a folder path cannot contain "..": ${JSON.stringify(s.slice(0, 80))}`);
    const path = `/${parts.join('/')}`;
    return { kind: 'local', path, label: `Local folder ${path}`, suggestedName: parts.at(-1) ?? 'root' };
  }
  try {
    return fromContent(parseContentPath(s), s);
  } catch (err) {
    if (err instanceof ContentPathError && !/^[a-z]+:/i.test(s) && !s.startsWith('/')) {
      throw new SourceError(`not something Berth can mount: ${JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s)}: ${SOURCE_EXPECTED}`);
    }
    throw err;
  }
}

/** Candidates inside free text: links, content paths and bare CIDs, in order of appearance. */
const CONTENT_IN_TEXT =
  /(?:ipfs|ipns):\/\/[^\s"'<>]+|https?:\/\/[^\s"'<>]+|\/ip[fn]s\/[^\s"'<>]+|\b(?:Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{50,}|k51[a-z0-9]{50,})\b/g;

/**
 * Finds the first IPFS/IPNS content named anywhere in dropped or pasted text (a URL list,
 * a sentence holding a CID, an HTML snippet's text); undefined when there is none.
 */
export function findContentIn(text: string): (SourceGuess & { kind: 'ipfs' | 'ipns' }) | undefined {
  if (typeof text !== 'string' || text.length === 0) return undefined;
  const t = text.length > 65_536 ? text.slice(0, 65_536) : text;
  for (const m of t.matchAll(CONTENT_IN_TEXT)) {
    const candidate = m[0].replace(/[).,;:!?\]]+$/, '');
    try {
      const g = fromContent(parseContentPath(candidate), candidate);
      return g as SourceGuess & { kind: 'ipfs' | 'ipns' };
    } catch {
      // not content (an ordinary web link, a word that looked like a CID): keep looking
    }
  }
  return undefined;
}

/** A folder name from a display name: no "/", no NUL, no leading dots, at most 100 characters. */
export function folderNameFor(name: string): string {
  const clean = name
    .replace(/[/\0]/g, '-')
    .replace(/…/g, '-')
    // eslint-disable-next-line no-control-regex -- control characters have no place in a folder name
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .replace(/^\.+/, '')
    .slice(0, 100)
    .trim();
  return clean === '' ? 'mount' : clean;
}

/** The default mount point for a new mount: `<folder>/<name>`. */
export function defaultMountpoint(folder: string, name: string): string {
  return `${folder.replace(/\/+$/, '') || ''}/${folderNameFor(name)}`;
}
