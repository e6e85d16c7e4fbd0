import { describe, expect, it } from 'vitest';
import { PathLru } from '../../../../src-main/vfs/cache/PathLru.ts';

describe('PathLru', () => {
  it('forgets exactly the keys under a path, keeping the path, its siblings and look-alike names', () => {
    const l = new PathLru<number>(100);
    for (const p of ['/a', '/a/b', '/a/b/c', '/a/x/y/z', '/ab', '/ab/c', '/q']) l.set(p, 1);
    l.deleteUnder('/a');
    expect(['/a', '/a/b', '/a/b/c', '/a/x/y/z', '/ab', '/ab/c', '/q'].map((p) => l.get(p) !== undefined)).toEqual([true, false, false, false, true, true, true]);
    expect(l.size).toBe(4);
  });

  it('finds keys under folders that are not keys themselves, and under the root', () => {
    const l = new PathLru<number>(100);
    l.set('/d/e/f/g', 1);
    l.set('/h', 2);
    l.deleteUnder('/d/e');
    expect(l.get('/d/e/f/g')).toBeUndefined();
    expect(l.get('/h')).toBe(2);
    l.set('/d/e/f/g', 3);
    l.deleteUnder('/');
    expect(l.size).toBe(0);
    expect(l.indexed).toBe(0);
  });

  it('evicts the least recently used key and keeps its index small', () => {
    const l = new PathLru<number>(2);
    l.set('/a/1', 1);
    l.set('/b/2', 2);
    l.get('/a/1');
    l.set('/c/3', 3);
    expect(l.get('/b/2')).toBeUndefined();
    expect(l.get('/a/1')).toBe(1);
    l.delete('/a/1');
    l.delete('/c/3');
    expect(l.indexed).toBe(0);
    l.deleteUnder('/b');
    expect(l.size).toBe(0);
  });

  it('keeps a subtree found after its parent key was deleted and set again', () => {
    const l = new PathLru<number>(100);
    l.set('/a', 1);
    l.set('/a/b', 2);
    l.delete('/a');
    l.set('/a', 3);
    l.deleteUnder('/a');
    expect(l.get('/a/b')).toBeUndefined();
    expect(l.get('/a')).toBe(3);
    l.delete('/a');
    expect(l.indexed).toBe(0);
  });
});
