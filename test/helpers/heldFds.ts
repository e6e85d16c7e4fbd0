import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

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

/** inotify watches this process holds now, in all its instances (Linux: /proc/self/fdinfo). */
export function inotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    try {
      n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}
