import { describe, expect, it } from 'vitest';
import { PathHandles } from '../../../../src-main/guests/nfsHandles.ts';

// The NFS guest's handles by path: what a create, remove or rename forgets is that path and
// what lies under it, nothing beside it, and a path is never kept under a parent that is not.

const fh = (s: string): Buffer => Buffer.from(s);

function tree(max = 1000): PathHandles {
  const h = new PathHandles(max);
  h.setRoot(fh('root'));
  for (const p of ['/a', '/a/b', '/a/b/c', '/a/bc', '/ab', '/ab/x']) h.set(p, fh(p));
  return h;
}

describe('nfs guest: handles by path', () => {
  it('forgets a path and everything under it, not a sibling whose name it begins', () => {
    const h = tree();
    h.forget('/a/b');
    expect(h.get('/a/b')).toBeUndefined();
    expect(h.get('/a/b/c')).toBeUndefined();
    expect(h.get('/a/bc')?.toString()).toBe('/a/bc');
    expect(h.get('/a')?.toString()).toBe('/a');
    h.forget('/a');
    expect(h.get('/a/bc')).toBeUndefined();
    expect(h.get('/ab/x')?.toString()).toBe('/ab/x');
    expect(h.size).toBe(3); // the root, /ab, /ab/x
  });

  it('a path made again after it was forgotten is kept under its parent, and forgotten with it', () => {
    const h = tree();
    h.forget('/a/b');
    h.set('/a/b', fh('new b'));
    h.set('/a/b/c', fh('new c'));
    h.forget('/a');
    expect(h.get('/a/b')).toBeUndefined();
    expect(h.get('/a/b/c')).toBeUndefined();
    expect(h.size).toBe(3);
  });

  it('keeps nothing under a parent it does not keep (looked up again from a kept folder)', () => {
    const h = tree();
    h.forget('/a');
    h.set('/a/b/c', fh('orphan'));
    expect(h.get('/a/b/c')).toBeUndefined();
  });

  it('a new handle for a kept path drops what was kept under the old one', () => {
    const h = tree();
    h.set('/a/b', fh('/a/b'));
    expect(h.get('/a/b/c')?.toString()).toBe('/a/b/c'); // the same handle: nothing changes
    h.set('/a/b', fh('replaced'));
    expect(h.get('/a/b')?.toString()).toBe('replaced');
    expect(h.get('/a/b/c')).toBeUndefined();
  });

  it('forgetting the root forgets all under it and keeps the root; a new root drops everything', () => {
    const h = tree();
    h.forget('/');
    expect(h.size).toBe(1);
    expect(h.get('/')?.toString()).toBe('root');
    const g = tree();
    g.setRoot(fh('remounted'));
    expect(g.size).toBe(1);
    expect(g.get('/a')).toBeUndefined();
  });

  it('past its bound keeps only the root, then fills again from it', () => {
    const h = new PathHandles(4);
    h.setRoot(fh('root'));
    h.set('/a', fh('a'));
    h.set('/a/1', fh('1'));
    h.set('/a/2', fh('2'));
    expect(h.size).toBe(4);
    h.set('/a/3', fh('3')); // full: all but the root dropped, so /a/3's parent is gone too
    expect(h.size).toBe(1);
    expect(h.get('/a/3')).toBeUndefined();
    h.set('/a', fh('a'));
    h.set('/a/3', fh('3'));
    expect(h.get('/a/3')?.toString()).toBe('3');
  });
});
