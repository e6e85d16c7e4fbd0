import { base32 } from 'multiformats/bases/base32';
import { base36 } from 'multiformats/bases/base36';
import type { ContentPath } from './contentPath.ts';
import { encodeDnsLabel, ipnsKeyCid, parseContentPath } from './contentPath.ts';

// The ONE share-link formatter (DESIGN.md "Share links"): the tray, context menus, the
// CLI `link` command and the API all copy links made here, so they agree on the form.

/** The three link forms a user can pick. */
export type ShareLinkForm = 'native' | 'path' | 'subdomain';

/** Gateways offered by default; the user picks one or types their own. */
export const DEFAULT_GATEWAYS = {
  /** The local node's gateway. Subdomain links need a name, so they use localhost. */
  local: { path: 'http://127.0.0.1:8080', subdomain: 'http://localhost:8080' },
  /** Public gateways run by the IPFS project. */
  public: { path: 'https://ipfs.io', subdomain: 'https://dweb.link' },
} as const;

/** Options for one link. */
export interface ShareLinkOptions {
  form: ShareLinkForm;
  /** Gateway origin, e.g. "https://dweb.link"; defaults to the public gateway of that form. */
  gateway?: string;
  /** Appended as `?filename=` so a browser saves the file under this name. */
  filename?: string;
}

/** A link, with the form actually used (a subdomain link can fall back to a path link). */
export interface ShareLink {
  url: string;
  form: ShareLinkForm;
  /** Why the requested form was not used, when it was not. */
  fallbackReason?: string;
}

/** A gateway or link the formatter cannot build; the message says what was expected. */
export class ShareLinkError extends Error {
  override readonly name = 'ShareLinkError';
}

/** Longest DNS label (RFC 1035); longer subdomain labels cannot resolve. */
const MAX_LABEL = 63;

interface Gateway {
  scheme: 'http' | 'https';
  /** Host as written, IPv6 in brackets. */
  host: string;
  /** ":port" or "". */
  port: string;
  /** Path prefix without trailing "/", e.g. "" or "/gw". */
  prefix: string;
}

/** Splits a gateway origin without the URL class (src-shared runs where there is none typed). */
function parseGateway(text: string): Gateway {
  const m = /^(https?):\/\/(\[[0-9a-fA-F:.]+\]|[^/?#:@[\]\s]+)(:\d{1,5})?(\/[^?#\s]*)?$/i.exec(text.trim());
  if (!m) {
    throw new ShareLinkError(
      `not a gateway: ${JSON.stringify(text.slice(0, 80))}: expected an origin like https://dweb.link or http://127.0.0.1:8080`,
    );
  }
  return {
    scheme: m[1]!.toLowerCase() as 'http' | 'https',
    host: m[2]!.toLowerCase(),
    port: m[3] ?? '',
    prefix: (m[4] ?? '').replace(/\/+$/, ''),
  };
}

/** True for a literal IPv4 or bracketed IPv6 host: no subdomain can be put in front of it. */
export function isIpHost(host: string): boolean {
  return host.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** Percent-encodes one path segment, leaving characters that are legal in a URL path alone. */
function encodeSegment(seg: string): string {
  return encodeURIComponent(seg).replace(/%(?:24|26|2B|2C|3A|3B|3D|40)/g, (e) => decodeURIComponent(e));
}

function pathAndQuery(cp: ContentPath, filename: string | undefined): string {
  const path = cp.path.map(encodeSegment).join('/');
  const name = filename ?? cp.filename;
  return (path ? `/${path}` : '') + (name ? `?filename=${encodeURIComponent(name)}` : '');
}

/** The CID or name as one case-insensitive DNS label; undefined when it does not fit in 63. */
function dnsLabel(cp: ContentPath): string | undefined {
  if (cp.namespace === 'ipfs') {
    const v1 = cp.cid.toV1();
    const b32 = v1.toString(base32);
    if (b32.length <= MAX_LABEL) return b32;
    // Like Kubo's gateway: base36 is shorter and still case-insensitive.
    const b36 = v1.toString(base36);
    return b36.length <= MAX_LABEL ? b36 : undefined;
  }
  const key = ipnsKeyCid(cp.name);
  const label = key ? key.toString(base36) : encodeDnsLabel(cp.name);
  return label.length <= MAX_LABEL ? label : undefined;
}

/** The id part of a path link: the CID as the user wrote it, or the IPNS name as given. */
function pathId(cp: ContentPath): string {
  return cp.namespace === 'ipfs' ? (cp.cidText ?? cp.cid.toString()) : cp.name;
}

function pathLink(cp: ContentPath, gateway: string, filename: string | undefined): string {
  const gw = parseGateway(gateway);
  return `${gw.scheme}://${gw.host}${gw.port}${gw.prefix}/${cp.namespace}/${pathId(cp)}${pathAndQuery(cp, filename)}`;
}

/**
 * Builds a share link for content (a ContentPath, or any text parseContentPath accepts) and
 * says which form it used: a subdomain link falls back to a path link on the same gateway
 * when the gateway is a bare IP or a label would exceed 63 characters.
 */
export function buildShareLink(target: ContentPath | string, options: ShareLinkOptions): ShareLink {
  const cp = typeof target === 'string' ? parseContentPath(target) : target;
  const { form, filename } = options;
  switch (form) {
    case 'native': {
      // Native links use a case-insensitive form: browsers lower-case the authority.
      const id = cp.namespace === 'ipfs' ? cp.cid.toV1().toString(base32) : (ipnsKeyCid(cp.name)?.toString(base36) ?? cp.name);
      return { url: `${cp.namespace}://${id}${pathAndQuery(cp, filename)}`, form };
    }
    case 'path':
      return { url: pathLink(cp, options.gateway ?? DEFAULT_GATEWAYS.public.path, filename), form };
    case 'subdomain': {
      const gateway = options.gateway ?? DEFAULT_GATEWAYS.public.subdomain;
      const gw = parseGateway(gateway);
      let reason: string | undefined;
      const label = dnsLabel(cp);
      if (isIpHost(gw.host)) reason = `gateway ${gw.host} is an IP address, which cannot take a subdomain`;
      else if (gw.prefix) reason = `gateway ${gateway} has a path, which subdomain gateways cannot have`;
      else if (!label) reason = `the ${cp.namespace === 'ipfs' ? 'CID' : 'name'} does not fit in one ${MAX_LABEL}-character DNS label`;
      if (reason || !label) {
        return { url: pathLink(cp, gateway, filename), form: 'path', fallbackReason: reason };
      }
      const rest = pathAndQuery(cp, filename);
      return { url: `${gw.scheme}://${label}.${cp.namespace}.${gw.host}${gw.port}${rest.startsWith('/') ? rest : `/${rest}`}`, form };
    }
    default: {
      const never: never = form;
      throw new ShareLinkError(`unknown link form ${JSON.stringify(never)}: expected native, path or subdomain`);
    }
  }
}

/** The share link's URL only (see buildShareLink). */
export function formatShareLink(target: ContentPath | string, options: ShareLinkOptions): string {
  return buildShareLink(target, options).url;
}
