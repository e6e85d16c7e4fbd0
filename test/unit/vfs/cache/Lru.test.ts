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
});
