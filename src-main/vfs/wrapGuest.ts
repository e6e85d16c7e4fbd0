import { type CachePolicy, withMetadataCache } from './cache/withMetadataCache.ts';
import type { Vfs } from './types.ts';
import { withTimeouts } from './withTimeouts.ts';

/** A guest call's deadline when the spec names none. */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** How long mutable attributes and listings stay cached when the spec names no expiry. */
export const DEFAULT_CACHE_EXPIRY_MS = 1_000;

/** How a guest is wrapped before a host serves it. */
export interface WrapOptions {
  timeoutMs?: number;
  cacheExpiryMs?: number;
  /** 'metadata' unless told otherwise. */
  cachePolicy?: CachePolicy;
}

/**
 * The layers every host serves: caches outside (a hit costs no timer), deadlines inside
 * (every call that reaches the guest is bounded).
 */
export function wrapGuest(vfs: Vfs, opts: WrapOptions = {}): Vfs {
  const timed = withTimeouts(vfs, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  return withMetadataCache(timed, {
    policy: opts.cachePolicy ?? 'metadata',
    expiryMs: opts.cacheExpiryMs ?? vfs.cacheExpiryMs ?? DEFAULT_CACHE_EXPIRY_MS,
  });
}
