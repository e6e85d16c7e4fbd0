import { describe, expect, it } from 'vitest';
import { Lru } from '../../../../src-main/vfs/cache/Lru.ts';

describe('Lru', () => {
  it('tells its owner of each key pushed out by the bound, least recently used first', () => {
    const evicted: string[] = [];
    const l = new Lru<string, number>(2, (k) => evicted.push(k));
    l.set('a', 1);
    l.set('b', 2);
    l.get('a');
    l.set('c', 3);
    l.set('d', 4);
    expect(evicted).toEqual(['b', 'a']);
    expect(l.has('c') && l.has('d')).toBe(true);
  });

  it('does not report keys its owner deleted or replaced', () => {
    const evicted: string[] = [];
    const l = new Lru<string, number>(2, (k) => evicted.push(k));
    l.set('a', 1);
    l.set('a', 2);
    l.delete('a');
    l.set('b', 1);
    l.clear();
    expect(evicted).toEqual([]);
    expect(l.size).toBe(0);
  });

  it('keeps exact order of use through many uses of one key, and peek does not count as one', () => {
    const evicted: [string, number][] = [];
    const l = new Lru<string, number>(3, (k, v) => evicted.push([k, v]));
    l.set('a', 1);
    l.set('b', 2);
    l.set('c', 3);
    // One key used over and over (a hot folder's handle): its place moves, nothing else.
    for (let i = 0; i < 1000; i++) expect(l.get('a')).toBe(1);
    expect(l.peek('b')).toBe(2);
    l.set('c', 30); // replacing a value is a use too
    expect([...l.oldestFirst()]).toEqual([
      ['b', 2],
      ['a', 1],
      ['c', 30],
    ]);
    l.set('d', 4);
    l.set('e', 5);
    expect(evicted).toEqual([
      ['b', 2],
      ['a', 1],
    ]);
    expect([...l.oldestFirst()].map(([k]) => k)).toEqual(['c', 'd', 'e']);
  });

  it('lets a walk from the oldest delete what it was just given', () => {
    const l = new Lru<number, string>(Infinity);
    for (let i = 0; i < 6; i++) l.set(i, `v${i}`);
    l.get(0);
    for (const [k] of l.oldestFirst()) if (k % 2 === 0) l.delete(k);
    expect([...l.oldestFirst()]).toEqual([
      [1, 'v1'],
      [3, 'v3'],
      [5, 'v5'],
    ]);
    expect(l.size).toBe(3);
    l.clear();
    expect([...l.oldestFirst()]).toEqual([]);
    l.set(7, 'v7');
    expect([...l.oldestFirst()]).toEqual([[7, 'v7']]);
  });
});
