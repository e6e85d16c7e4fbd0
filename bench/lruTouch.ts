import { Lru } from '../src-main/vfs/cache/Lru.ts';

// Profiling aid (not part of `npm run bench`): what marking an entry used costs, in a table
// of N entries where a few keys are used over and over (the folder handle every LOOKUP and
// CREATE in it names, a folder's watch, a file's root block), done two ways:
// - re-inserting the key in a Map (delete, then set), which each LRU here did before: each
//   re-insert leaves a dead copy in the key's hash chain until the Map is rehashed, so the
//   cost grows with the uses since then and with N;
// - vfs/cache/Lru.ts, which relinks a list node and leaves the Map alone.
// Usage: npx tsx bench/lruTouch.ts [uses per figure, default 300000]

const uses = Number(process.argv[2] ?? 300_000);

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return ((performance.now() - t0) * 1e6) / uses;
}

console.log(`${uses} uses per figure, ns per use`);
console.log(`${'entries'.padStart(8)} ${'hot keys'.padStart(9)} ${'Map re-insert'.padStart(14)} ${'Lru'.padStart(8)}`);
for (const n of [1_000, 30_000, 200_000]) {
  for (const hot of [1, 5, 100]) {
    const m = new Map<number, string>();
    const l = new Lru<number, string>(Infinity);
    for (let i = 0; i < n; i++) {
      m.set(i, `/d/f${i}`);
      l.set(i, `/d/f${i}`);
    }
    const byMap = time(() => {
      for (let k = 0; k < uses; k++) {
        const id = n - 1 - (k % hot);
        const v = m.get(id)!;
        m.delete(id);
        m.set(id, v);
      }
    });
    const byLru = time(() => {
      for (let k = 0; k < uses; k++) l.get(n - 1 - (k % hot));
    });
    console.log(`${String(n).padStart(8)} ${String(hot).padStart(9)} ${byMap.toFixed(0).padStart(14)} ${byLru.toFixed(0).padStart(8)}`);
  }
}
