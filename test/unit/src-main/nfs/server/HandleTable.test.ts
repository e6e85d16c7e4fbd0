import { describe, expect, it } from 'vitest';
import { HandleTable } from '../../../../../src-main/nfs/server/HandleTable.ts';
import { lookupPath } from '../../../../../src-main/nfs/server/names.ts';

describe('HandleTable', () => {
  it('gives each path one stable handle of at most 64 bytes', () => {
    const t = new HandleTable();
    const a = t.handleFor('/a');
    expect(a.length).toBeLessThanOrEqual(64);
    expect(t.handleFor('/a').equals(a)).toBe(true);
    expect(t.pathOf(a)).toBe('/a');
    expect(t.pathOf(t.handleFor('/'))).toBe('/');
  });

  it('moves handles on rename and makes removed ones stale', () => {
    const t = new HandleTable();
    const dir = t.handleFor('/d');
    const child = t.handleFor('/d/x');
    t.rename('/d', '/e');
    expect(t.pathOf(dir)).toBe('/e');
    expect(t.pathOf(child)).toBe('/e/x');
    t.forget('/e');
    expect(() => t.pathOf(child)).toThrow(expect.objectContaining({ status: 70 }));
  });

  it('tells foreign handles (BADHANDLE) from another server instance (STALE)', () => {
    const t = new HandleTable();
    expect(() => t.pathOf(Buffer.alloc(5))).toThrow(expect.objectContaining({ status: 10001 }));
    const other = new HandleTable().handleFor('/');
    expect(() => t.pathOf(other)).toThrow(expect.objectContaining({ status: 70 }));
  });
});

describe('lookupPath', () => {
  it('resolves "." and ".." without leaving the root and refuses "/" and NUL in names', () => {
    expect(lookupPath('/', '..')).toBe('/');
    expect(lookupPath('/a/b', '..')).toBe('/a');
    expect(lookupPath('/a', '.')).toBe('/a');
    expect(lookupPath('/a', 'c')).toBe('/a/c');
    expect(() => lookupPath('/', 'x/y')).toThrow(expect.objectContaining({ status: 22 }));
    expect(() => lookupPath('/', 'x\0')).toThrow(expect.objectContaining({ status: 22 }));
    expect(() => lookupPath('/', 'x'.repeat(256))).toThrow(expect.objectContaining({ status: 63 }));
  });
});
