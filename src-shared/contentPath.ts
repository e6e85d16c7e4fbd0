import { CID } from 'multiformats/cid';
import { bases } from 'multiformats/basics';
import { base58btc } from 'multiformats/bases/base58';
import * as Digest from 'multiformats/hashes/digest';

// The ONE parser for user input that names content (DESIGN.md "Data model"): every face
// (CLI, tray "mount CID from clipboard", drop target, add form, API) goes through it, so
// they all accept the same forms and refuse bad input with the same words.
//
// Percent-decoding applies to URL forms only (ipfs://, ipns://, http(s)://): a bare content
// path like `/ipfs/<cid>/100%.txt` is taken literally, the way `ipfs cat` reads it (only a
// trailing `?filename=` is read as a query there).

/** The forms the parser accepts, quoted in every error message. */
export const CONTENT_PATH_EXPECTED =
  'expected a CID (Qm… or bafy…), /ipfs/<cid>/…, /ipns/<name>/…, ipfs://…, or a gateway URL';

/** Longest input the parser looks at; longer input is refused before any work. */
export const MAX_CONTENT_PATH_LENGTH = 8192;

/** Parsed content path: an immutable CID or a mutable IPNS name, plus path segments. */
export type ContentPath = IpfsContentPath | IpnsContentPath;

/** `/ipfs/<cid>/<path>`. */
export interface IpfsContentPath {
  namespace: 'ipfs';
  cid: CID;
  /** The CID exactly as the user wrote it (any base); path links keep it. */
  cidText?: string;
  /** Segments below the CID: decoded, never empty, ".", ".." or containing "/" or NUL. */
  path: string[];
  /** From a gateway URL's `?filename=`: the name to save the file under. */
  filename?: string;
}

/** `/ipns/<name>/<path>`; name is a key (k51…, 12D3KooW…, Qm…) or a DNSLink domain. */
export interface IpnsContentPath {
  namespace: 'ipns';
  name: string;
  path: string[];
  filename?: string;
}

/** Bad content-path input; the message says what was expected. */
export class ContentPathError extends Error {
  override readonly name = 'ContentPathError';
  /** The offending input, shortened for display. */
  readonly input: string;
  constructor(message: string, input: string) {
    super(message);
    this.input = input;
  }
}

/** Accepts any multibase the basics bundle knows (base32, base36, base58btc, base16, base64, …). */
const anyBase = Object.values(bases)
  .map((b) => b.decoder)
  .reduce((a, b) => a.or(b) as unknown as typeof a);

const LIBP2P_KEY = 0x72;

/** Shows input in an error without flooding it: JSON-quoted, at most ~80 characters. */
function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}

function fail(message: string, input: string): never {
  throw new ContentPathError(message, quote(input));
}

/** Parses a CID string in any multibase; undefined when it is not one. */
export function tryParseCid(text: string): CID | undefined {
  if (text.length === 0 || text.length > 512) return undefined;
  try {
    // CIDv0 (Qm…) has no multibase prefix; CID.parse handles it only without a decoder.
    return text.startsWith('Qm') ? CID.parse(text) : CID.parse(text, anyBase);
  } catch {
    return undefined;
  }
}

/** Parses a CID or throws ContentPathError naming what was expected. */
export function parseCid(text: string, where = ''): CID {
  const cid = tryParseCid(text);
  if (!cid) fail(`not a CID${where}: ${quote(text)}: expected a CID like Qm… (v0) or bafy… (v1, any multibase)`, text);
  return cid;
}

/**
 * Turns an IPNS key in any accepted spelling (k51… CID, bafz… CID, 12D3KooW… or Qm… peer id)
 * into its CIDv1 with the libp2p-key codec; undefined for a DNSLink name or garbage.
 */
export function ipnsKeyCid(name: string): CID | undefined {
  const cid = tryParseCid(name);
  if (cid) return CID.createV1(LIBP2P_KEY, cid.multihash);
  // A base58btc peer id (12D3KooW…, 16Uiu2…) is a bare multihash without a multibase prefix.
  if (/^[1-9A-HJ-NP-Za-km-z]{40,100}$/.test(name)) {
    try {
      return CID.createV1(LIBP2P_KEY, Digest.decode(base58btc.baseDecode(name)));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A DNSLink domain: dot-separated LDH labels of 1-63 characters, at least two labels. */
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?$/i;

/** True when `name` is a usable IPNS name: a key or a DNSLink domain. */
export function isIpnsName(name: string): boolean {
  return ipnsKeyCid(name) !== undefined || DOMAIN.test(name);
}

function checkIpnsName(name: string, input: string): string {
  if (!isIpnsName(name)) {
    fail(
      `not an IPNS name: ${quote(name)}: expected a key (k51…, 12D3KooW…) or a DNSLink domain (example.org)`,
      input,
    );
  }
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function decodePercent(s: string, input: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return fail(`bad percent-encoding in ${quote(s)}: expected %XX escapes of UTF-8 bytes`, input);
  }
}

/**
 * Splits a path into clean segments: drops empty and "." segments, resolves "..", and refuses
 * a ".." that would climb above the root, since nothing may resolve outside the content root.
 */
export function splitContentPath(raw: string, decode: boolean, input: string): string[] {
  const out: string[] = [];
  for (const part of raw.split('/')) {
    const seg = decode ? decodePercent(part, input) : part;
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) fail(`path ${quote(raw)} climbs above its root with "..": expected a path inside the content`, input);
      out.pop();
      continue;
    }
    if (seg.includes('/')) fail(`path segment ${quote(seg)} contains an encoded "/": expected one name per segment`, input);
    if (seg.includes('\0')) fail('path contains a NUL byte', input);
    out.push(seg);
  }
  return out;
}

/** Reads `filename=` from a URL query (form-encoded: "+" is a space). */
function filenameFromQuery(query: string, input: string): string | undefined {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key !== 'filename' || eq < 0) continue;
    const value = decodePercent(pair.slice(eq + 1).replace(/\+/g, ' '), input);
    if (value === '' || value.includes('/') || value.includes('\0') || value === '.' || value === '..') {
      fail(`bad filename ${quote(value)} in the query: expected a plain file name`, input);
    }
    return value;
  }
  return undefined;
}

/** Splits `rest` at the first "?" / "#": [path, query]. */
function cutQuery(rest: string): [string, string] {
  const hash = rest.indexOf('#');
  const noHash = hash < 0 ? rest : rest.slice(0, hash);
  const q = noHash.indexOf('?');
  return q < 0 ? [noHash, ''] : [noHash.slice(0, q), noHash.slice(q + 1)];
}

function build(
  ns: string,
  id: string,
  rawPath: string,
  decode: boolean,
  query: string,
  input: string,
): ContentPath {
  const path = splitContentPath(rawPath, decode, input);
  const filename = query ? filenameFromQuery(query, input) : undefined;
  const extra = filename === undefined ? {} : { filename };
  if (ns === 'ipfs') {
    if (id === '') fail(`missing CID after /ipfs/: ${CONTENT_PATH_EXPECTED}`, input);
    return { namespace: 'ipfs', cid: parseCid(id, ' after /ipfs/'), cidText: id, path, ...extra };
  }
  if (ns === 'ipns') {
    if (id === '') fail(`missing name after /ipns/: ${CONTENT_PATH_EXPECTED}`, input);
    return { namespace: 'ipns', name: checkIpnsName(id, input), path, ...extra };
  }
  return fail(`unknown namespace ${quote(ns)}: expected /ipfs/ or /ipns/`, input);
}

/** `/ipfs/<id>/rest` or `/ipns/<id>/rest` (leading "/" already checked). */
function parseNamespaced(p: string, decode: boolean, query: string, input: string): ContentPath | undefined {
  const m = /^\/+(ipfs|ipns)(?:\/+([^/]*))?(\/.*)?$/i.exec(p);
  if (!m) return undefined;
  const id = decode ? decodePercent(m[2] ?? '', input) : (m[2] ?? '');
  return build(m[1]!.toLowerCase(), id, m[3] ?? '', decode, query, input);
}

/** Decodes a DNSLink name inlined into one subdomain label: "--" is "-", "-" is ".". */
export function decodeDnsLabel(label: string): string {
  return label.replace(/--|-/g, (m) => (m === '--' ? '-' : '.'));
}

/** Encodes a DNSLink name into one subdomain label: "-" becomes "--", "." becomes "-". */
export function encodeDnsLabel(name: string): string {
  return name.replace(/-/g, '--').replace(/\./g, '-');
}

function parseHttpUrl(s: string, input: string): ContentPath {
  const afterScheme = s.slice(s.indexOf('://') + 3);
  const end = afterScheme.search(/[/?#]/);
  const authority = end < 0 ? afterScheme : afterScheme.slice(0, end);
  const [rawPath, query] = cutQuery(end < 0 ? '' : afterScheme.slice(end));
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const host = hostPort.startsWith('[') ? hostPort.slice(0, hostPort.indexOf(']') + 1) : hostPort.replace(/:\d*$/, '');
  if (host === '') fail(`URL has no host: ${CONTENT_PATH_EXPECTED}`, input);

  // Subdomain gateway: <cid>.ipfs.<gateway host> or <name>.ipns.<gateway host>. A DNSLink
  // name may also be written with its dots, so try every "ipfs"/"ipns" label, leftmost first.
  const lower = host.toLowerCase().split('.');
  // Labels keep their typed case for the CID (a v0 CID is case-sensitive).
  const typed = host.split('.');
  let firstNs: number | undefined;
  for (let i = 1; i < lower.length - 1; i++) {
    const ns = lower[i];
    if (ns !== 'ipfs' && ns !== 'ipns') continue;
    firstNs ??= i;
    const prefix = typed.slice(0, i);
    if (ns === 'ipfs' && prefix.length === 1 && tryParseCid(prefix[0]!)) {
      return build('ipfs', prefix[0]!, rawPath, true, query, input);
    }
    if (ns === 'ipns') {
      const name = prefix.join('.');
      const candidate = prefix.length === 1 && !ipnsKeyCid(name) ? decodeDnsLabel(name) : name;
      if (isIpnsName(candidate)) return build('ipns', candidate, rawPath, true, query, input);
    }
  }
  // Not a valid subdomain form: maybe a path gateway whose host happens to contain "ipfs".
  if (firstNs !== undefined && !/^\/+(ipfs|ipns)(\/|$)/i.test(rawPath)) {
    const prefix = typed.slice(0, firstNs).join('.');
    if (lower[firstNs] === 'ipfs') parseCid(prefix, ' in the subdomain');
    fail(
      `not an IPNS name in the subdomain: ${quote(prefix)}: expected a key (k51…) or a DNSLink name written with "-" for "." (en-wikipedia--on--ipfs-org)`,
      input,
    );
  }
  const parsed = parseNamespaced(rawPath, true, query, input);
  if (!parsed) fail(`gateway URL without /ipfs/ or /ipns/ in its path: ${quote(s)}: ${CONTENT_PATH_EXPECTED}`, input);
  return parsed;
}

/**
 * Parses anything a user may paste to name content: a CID (v0/v1, any multibase, optionally
 * followed by /path), /ipfs/CID/p, /ipns/name/p, ipfs://CID/p, ipns://name/p, a path-gateway
 * URL or a subdomain-gateway URL. Throws ContentPathError saying what was expected.
 */
export function parseContentPath(input: string): ContentPath {
  if (typeof input !== 'string') throw new ContentPathError(`not a CID or content path: ${CONTENT_PATH_EXPECTED}`, String(input));
  if (input.length > MAX_CONTENT_PATH_LENGTH) {
    throw new ContentPathError(
      `content path is too long (${input.length} characters, at most ${MAX_CONTENT_PATH_LENGTH}): ${CONTENT_PATH_EXPECTED}`,
      quote(input),
    );
  }
  const s = input.trim();
  if (s === '') fail(`empty content path: ${CONTENT_PATH_EXPECTED}`, input);
  if (s.includes('\0')) fail('content path contains a NUL byte', input);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(s)) fail(`content path contains a control character: ${CONTENT_PATH_EXPECTED}`, input);

  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1]?.toLowerCase();
  if (scheme === 'ipfs' || scheme === 'ipns') {
    // ipfs://CID/p (native). Also tolerate ipfs:/ipfs/CID-style slips by stripping slashes.
    const [rest, query] = cutQuery(s.slice(scheme.length + 1).replace(/^\/+/, ''));
    const slash = rest.indexOf('/');
    const id = decodePercent(slash < 0 ? rest : rest.slice(0, slash), input);
    return build(scheme, id, slash < 0 ? '' : rest.slice(slash), true, query, input);
  }
  if (scheme === 'http' || scheme === 'https') {
    if (!/^https?:\/\//i.test(s)) fail(`URL without "//": ${CONTENT_PATH_EXPECTED}`, input);
    return parseHttpUrl(s, input);
  }
  // Plain forms are literal, except a trailing "?filename=…" as copied from a gateway URL's
  // path (a file really named "x?filename=y" is too unlikely to keep that paste failing).
  const fq = /\?(filename=[^/?#]*)$/.exec(s);
  const plain = fq ? s.slice(0, fq.index) : s;
  const plainQuery = fq ? fq[1]! : '';
  if (scheme === 'dweb') {
    const parsed = parseNamespaced(plain.slice(5), false, plainQuery, input);
    if (parsed) return parsed;
  }
  if (plain.startsWith('/')) {
    const parsed = parseNamespaced(plain, false, plainQuery, input);
    if (parsed) return parsed;
    fail(`not a content path: ${quote(s)}: a path must start with /ipfs/ or /ipns/; ${CONTENT_PATH_EXPECTED}`, input);
  }
  // A bare CID, optionally followed by /path (the ipfs guest's own `<cid>/path` form).
  const slash = plain.indexOf('/');
  const head = slash < 0 ? plain : plain.slice(0, slash);
  if (tryParseCid(head)) return build('ipfs', head, slash < 0 ? '' : plain.slice(slash), false, plainQuery, input);
  return fail(`not a CID or content path: ${quote(s)}: ${CONTENT_PATH_EXPECTED}`, input);
}

/** Formats a content path canonically: `/ipfs/<cid v0 base58 or v1 base32>/a/b` or `/ipns/<name>/a/b`. */
export function formatContentPath(cp: ContentPath): string {
  const head = cp.namespace === 'ipfs' ? `/ipfs/${cp.cid.toString()}` : `/ipns/${cp.name}`;
  return cp.path.length ? `${head}/${cp.path.join('/')}` : head;
}
