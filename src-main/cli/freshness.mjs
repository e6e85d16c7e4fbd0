// When a build output is older than its sources: shared by the `berth` launcher (is the
// CLI bundle fresh?) and `npm start` (is the desktop build fresh?), so both judge alike.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Newest modification time (ms) of the files under `path` (or of the file itself); 0 when it does not exist. */
export function newestUnder(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestUnder(p));
    else if (e.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** True when every output exists and none is older than the newest source. */
export function isFresh(outputs, sources) {
  let oldestOutput = Infinity;
  for (const out of outputs) {
    try {
      oldestOutput = Math.min(oldestOutput, statSync(out).mtimeMs);
    } catch {
      return false;
    }
  }
  return sources.every((src) => newestUnder(src) <= oldestOutput);
}
