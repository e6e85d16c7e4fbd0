// The renderer's Content-Security-Policy, in one place: the built page's <meta>
// (electron.vite.config.ts) and the daemon's header for the browser face
// (src-main/api/staticUi.ts) say the same thing. No inline script or style, no origin
// but the page's own.

/** Directives of the renderer's CSP that a <meta> can carry. */
export const RENDERER_CSP_DIRECTIVES = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
] as const;

/** The CSP as a <meta http-equiv> value. */
export const RENDERER_CSP = RENDERER_CSP_DIRECTIVES.join('; ');

/** The CSP as an HTTP header: frame-ancestors works only there. */
export const RENDERER_CSP_HEADER = [...RENDERER_CSP_DIRECTIVES, "frame-ancestors 'none'"].join('; ');
