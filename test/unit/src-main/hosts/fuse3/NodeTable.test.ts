import { describe, expect, it } from 'vitest';
import { NodeTable, ROOT_ID } from '../../../../../src-main/hosts/fuse3/NodeTable.ts';

// The kernel's node numbers against vfs paths: lookups counted, forgotten, renamed.

describe('NodeTable', () => {
  it('gives one number per path, counts lookups and drops a node at zero', () => {
    const t = new NodeTable();
    const a = t.remember('/a', 0);
    expect(t.remember('/a', 0)).toBe(a);
    expect(a.id).not.toBe(ROOT_ID);
    t.forget(a.id, 1);
    expect(t.get(a.id)).toBe(a);
    t.forget(a.id, 1);
    expect(t.get(a.id)).toBeUndefined();
    // A path looked up again gets a new number: an old one never names another node.
    expect(t.remember('/a', 0).id).not.toBe(a.id);
  });

  it('never forgets the root', () => {
    const t = new NodeTable();
    t.forget(ROOT_ID, 10);
    expect(t.get(ROOT_ID)?.path).toBe('/');
  });

  it('moves a renamed folder with everything below it, and replaces the target', () => {
    const t = new NodeTable();
    const d = t.remember('/d', 0);
    const f = t.remember('/d/f', 0);
    const g = t.remember('/d/sub/g', 0);
    const other = t.remember('/dx', 0);
    const old = t.remember('/e', 0);
    t.renamed('/d', '/e');
    expect([d.path, f.path, g.path, other.path]).toEqual(['/e', '/e/f', '/e/sub/g', '/dx']);
    expect(t.remember('/e', 0)).toBe(d);
    // The node that had the target's name keeps its number for open files, not the name.
    expect(t.get(old.id)?.path).toBe('/e');
    expect(NodeTable.child(t.get(ROOT_ID)!, 'x')).toBe('/x');
    expect(NodeTable.child(d, 'x')).toBe('/e/x');
  });

  it('swaps two names with everything below them (RENAME_EXCHANGE), leaving their neighbours', () => {
    const t = new NodeTable();
    const d = t.remember('/d', 0);
    const below = t.remember('/d/sub/g', 0);
    const f = t.remember('/f', 0);
    const near = t.remember('/dx', 0);
    t.exchanged('/d', '/f');
    expect([d.path, below.path, f.path, near.path]).toEqual(['/f', '/f/sub/g', '/d', '/dx']);
    expect(t.remember('/f', 0)).toBe(d);
    expect(t.remember('/f/sub/g', 0)).toBe(below);
    expect(t.remember('/d', 0)).toBe(f);
    // One side unknown to the kernel: the other moves alone.
    t.exchanged('/d', '/new');
    expect(f.path).toBe('/new');
    expect(t.remember('/d', 0)).not.toBe(f);
  });

  it('a renamed folder takes along nodes moved into it and those of the folder it replaced at its name', () => {
    const t = new NodeTable();
    t.remember('/d', 0);
    const f = t.remember('/f', 0);
    t.renamed('/f', '/d/f');
    t.renamed('/d', '/e');
    expect(f.path).toBe('/e/f');
    // The folder's name comes to name another folder (replaced in the backing folder): the
    // nodes the kernel still holds below the name move with the name.
    t.remember('/g', 1);
    const x = t.remember('/g/x', 2);
    const g2 = t.remember('/g', 3);
    t.renamed('/g', '/h');
    expect([g2.path, x.path]).toEqual(['/h', '/h/x']);
    // A renamed file takes nothing along: a sibling sharing its name's start stays.
    const a = t.remember('/e/a', 0);
    const ab = t.remember('/e/ab', 0);
    t.renamed('/e/a', '/e/b');
    expect([a.path, ab.path, f.path]).toEqual(['/e/b', '/e/ab', '/e/f']);
  });

  it('a name that comes to name another file gets a new node; the old one keeps its number for open files', () => {
    const t = new NodeTable();
    const a = t.remember('/a', 7);
    expect(t.remember('/a', 7)).toBe(a);
    // Replaced in the backing folder (another inode at the name): a node of its own.
    const b = t.remember('/a', 8);
    expect(b.id).not.toBe(a.id);
    expect([b.ino, b.lookups]).toEqual([8, 1]);
    expect(t.get(a.id)).toBe(a);
    expect(a.lookups).toBe(2);
    expect(t.remember('/a', 8)).toBe(b);
    // A side without a number says nothing: the node stays, and learns one it lacked.
    expect(t.remember('/a', 0)).toBe(b);
    const c = t.remember('/c', 0);
    expect(t.remember('/c', 9)).toBe(c);
    expect(c.ino).toBe(9);
    expect(t.remember('/c', 10)).not.toBe(c);
  });

  it('an unlinked name can be made again as a new node', () => {
    const t = new NodeTable();
    const a = t.remember('/a', 0);
    t.unlinked('/a');
    const b = t.remember('/a', 0);
    expect(b.id).not.toBe(a.id);
    expect(t.get(a.id)).toBe(a);
    // The old node has no name any more (only its open files reach it); the new one has.
    expect([a.detached, b.detached]).toEqual([true, undefined]);
    // So does a node renamed over, and one whose name came to name another file.
    const c = t.remember('/c', 0);
    t.renamed('/a', '/c');
    const d = t.remember('/d', 4);
    t.remember('/d', 5);
    expect([c.detached, b.detached, d.detached]).toEqual([true, undefined, true]);
  });

  it('names the other nodes of a file (its hard links) until the kernel forgets them', () => {
    const t = new NodeTable();
    const a = t.remember('/a', 7);
    expect(t.otherNodes(a)).toEqual([]);
    const b = t.remember('/b', 7);
    const c = t.remember('/d/c', 7);
    t.remember('/other', 8);
    expect(t.otherNodes(a)).toEqual([b, c]);
    expect(t.otherNodes(c)).toEqual([a, b]);
    // Removing a name gives its node (still valid for open files, still one of the file's nodes).
    expect(t.unlinked('/d/c')).toBe(c);
    expect(t.unlinked('/d/c')).toBeUndefined();
    t.forget(c.id, 1);
    expect(t.otherNodes(a)).toEqual([b]);
    // A rename over a name gives the node it replaced.
    expect(t.renamed('/other', '/b')).toBe(b);
    t.forget(b.id, 1);
    expect(t.otherNodes(a)).toEqual([]);
    // A node without a number has no links it could name.
    const z = t.remember('/z', 0);
    expect(t.otherNodes(z)).toEqual([]);
  });
});
