import { describe, expect, it } from 'vitest';
import { NodeTable, ROOT_ID } from '../../../../../src-main/hosts/fuse3/NodeTable.ts';

// The kernel's node numbers against vfs paths: lookups counted, forgotten, renamed.

describe('NodeTable', () => {
  it('gives one number per path, counts lookups and drops a node at zero', () => {
    const t = new NodeTable();
    const a = t.remember('/a');
    expect(t.remember('/a')).toBe(a);
    expect(a.id).not.toBe(ROOT_ID);
    t.forget(a.id, 1);
    expect(t.get(a.id)).toBe(a);
    t.forget(a.id, 1);
    expect(t.get(a.id)).toBeUndefined();
    // A path looked up again gets a new number: an old one never names another node.
    expect(t.remember('/a').id).not.toBe(a.id);
  });

  it('never forgets the root', () => {
    const t = new NodeTable();
    t.forget(ROOT_ID, 10);
    expect(t.get(ROOT_ID)?.path).toBe('/');
  });

  it('moves a renamed folder with everything below it, and replaces the target', () => {
    const t = new NodeTable();
    const d = t.remember('/d');
    const f = t.remember('/d/f');
    const g = t.remember('/d/sub/g');
    const other = t.remember('/dx');
    const old = t.remember('/e');
    t.renamed('/d', '/e');
    expect([d.path, f.path, g.path, other.path]).toEqual(['/e', '/e/f', '/e/sub/g', '/dx']);
    expect(t.remember('/e')).toBe(d);
    // The node that had the target's name keeps its number for open files, not the name.
    expect(t.get(old.id)?.path).toBe('/e');
    expect(NodeTable.child(t.get(ROOT_ID)!, 'x')).toBe('/x');
    expect(NodeTable.child(d, 'x')).toBe('/e/x');
  });

  it('an unlinked name can be made again as a new node', () => {
    const t = new NodeTable();
    const a = t.remember('/a');
    t.unlinked('/a');
    const b = t.remember('/a');
    expect(b.id).not.toBe(a.id);
    expect(t.get(a.id)).toBe(a);
  });
});
