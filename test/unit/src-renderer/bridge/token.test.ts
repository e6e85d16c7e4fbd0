import { describe, expect, it } from 'vitest';
import { forgetToken, takeToken, TOKEN_KEY, type TokenEnv } from '../../../../src-renderer/bridge/token.ts';

// The token travels in the address's fragment once; after that it lives in this tab's
// sessionStorage and nowhere a person could copy, bookmark or screenshot it.

const TOKEN = 'lV4Q2I28DDDOPcLpwwJkoHRj3LqNvMgs0EPtmX2286U';

function env(hash: string, stored?: string): TokenEnv & { url: () => string; store: Map<string, string> } {
  const store = new Map<string, string>(stored ? [[TOKEN_KEY, stored]] : []);
  let url = `/${hash}`;
  return {
    location: { hash, pathname: '/', search: '' },
    history: { state: null, replaceState: (_s: unknown, _t: string, u?: string | URL | null) => void (url = String(u)) },
    storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) },
    url: () => url,
    store,
  };
}

describe('the browser token', () => {
  it('is taken from #token=, kept for the tab, and removed from the address bar', () => {
    const e = env(`#token=${TOKEN}`);
    expect(takeToken(e)).toBe(TOKEN);
    expect(e.store.get(TOKEN_KEY)).toBe(TOKEN);
    expect(e.url()).toBe('/');
  });

  it('keeps other fragment parameters', () => {
    const e = env(`#token=${TOKEN}&view=details`);
    takeToken(e);
    expect(e.url()).toBe('/#view=details');
  });

  it('comes from sessionStorage after a reload', () => {
    expect(takeToken(env('', TOKEN))).toBe(TOKEN);
  });

  it('is absent when there is none, and a malformed one is not kept', () => {
    expect(takeToken(env(''))).toBeUndefined();
    const e = env('#token=<script>');
    expect(takeToken(e)).toBeUndefined();
    expect(e.store.size).toBe(0);
    expect(e.url()).toBe('/');
  });

  it('is forgotten when the daemon refuses it', () => {
    const e = env('', TOKEN);
    forgetToken(e);
    expect(takeToken(e)).toBeUndefined();
  });
});
