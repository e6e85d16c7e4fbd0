// The browser face's bearer token. `berth daemon --ui` prints the page address with the
// token in the fragment (`/#token=…`), which browsers never send to the server. The page
// takes it from there once, keeps it in sessionStorage (this tab only, gone when the tab
// closes) and removes it from the address bar, so it does not end up in bookmarks,
// screenshots or the history.

/** The sessionStorage key of the token. */
export const TOKEN_KEY = 'berth.token';

/** What a token looks like (256 bits, base64url); anything else is ignored. */
const TOKEN_RE = /^[A-Za-z0-9_-]{16,256}$/;

/** The pieces of `window` the token needs (replaceable in tests). */
export interface TokenEnv {
  location: Pick<Location, 'hash' | 'pathname' | 'search'>;
  history: Pick<History, 'replaceState' | 'state'>;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
}

/**
 * Reads the token from `#token=…` (storing it and stripping it from the address bar), or
 * from sessionStorage when the fragment has none; undefined when there is none at all.
 */
export function takeToken(env: TokenEnv): string | undefined {
  const params = new URLSearchParams(env.location.hash.replace(/^#/, ''));
  const fromHash = params.get('token');
  if (fromHash !== null) {
    params.delete('token');
    const rest = params.toString();
    env.history.replaceState(env.history.state, '', `${env.location.pathname}${env.location.search}${rest ? `#${rest}` : ''}`);
    if (TOKEN_RE.test(fromHash)) {
      env.storage.setItem(TOKEN_KEY, fromHash);
      return fromHash;
    }
  }
  const kept = env.storage.getItem(TOKEN_KEY);
  return kept !== null && TOKEN_RE.test(kept) ? kept : undefined;
}

/** Forgets a token the daemon refused, so a reload shows how to get the right one. */
export function forgetToken(env: Pick<TokenEnv, 'storage'>): void {
  env.storage.removeItem(TOKEN_KEY);
}
