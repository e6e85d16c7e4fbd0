import { readdirSync, readlinkSync } from 'node:fs';

/** This process's descriptors naming a removed node under `dir` (Linux: /proc/self/fd). */
export function heldUnder(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const to = readlinkSync(`/proc/self/fd/${fd}`);
      if (to.startsWith(dir) && to.endsWith(' (deleted)')) out.push(to);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}
