import { config } from 'zod';

// zod compiles object parsers with `new Function` when eval is allowed, and probes for it
// by trying; under the page's CSP (script-src 'self', no 'unsafe-eval') that probe is a
// reported violation. The interpreted parsers are plenty fast for a form, so the page
// never tries. Imported first by main.tsx, before anything parses.
config({ jitless: true });
