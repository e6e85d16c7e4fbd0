import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesOfName, fsPath, hasRawBytes, nameFromBytes, nameToBytes, osArgs, osPath } from '../../../../src-main/sys/byteNames.ts';

const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "caf\xe9"

describe('byteNames', () => {
  it('reads UTF-8 names as themselves and keeps other bytes as U+DC80..U+DCFF', () => {
    expect(nameFromBytes(Buffer.from('café 💀'))).toBe('café 💀');
    expect(nameFromBytes(latin1)).toBe('caf\udce9');
    expect(nameFromBytes(Buffer.from([0x63, 0x61, 0x66, 0xe8]))).not.toBe(nameFromBytes(latin1));
    // A real U+FFFD in a name is a name like any other.
    expect(nameFromBytes(Buffer.from('a\ufffdb'))).toBe('a\ufffdb');
    // Overlong "/" and an encoded surrogate are not UTF-8: each byte is kept on its own.
    expect(nameFromBytes(Buffer.from([0xc0, 0xaf]))).toBe('\udcc0\udcaf');
    expect(nameFromBytes(Buffer.from([0xed, 0xb2, 0x80]))).toBe('\udced\udcb2\udc80');
    expect(nameFromBytes(Buffer.from('xcaf\xe9y', 'latin1'), 1, 5)).toBe('caf\udce9');
  });

  it('gives back the very bytes for every name it read', () => {
    for (let i = 0; i < 5000; i++) {
      const b = randomBytes(1 + (i % 24));
      expect(nameToBytes(nameFromBytes(b)).equals(b)).toBe(true);
    }
    const mixed = Buffer.concat([Buffer.from('é💀'), Buffer.from([0xff, 0xf0, 0x9f]), Buffer.from('ok')]);
    expect(nameToBytes(nameFromBytes(mixed)).equals(mixed)).toBe(true);
  });

  it('tells names with raw bytes from plain ones, and refuses surrogates no bytes make', () => {
    expect(hasRawBytes('café 💀')).toBe(false);
    expect(hasRawBytes('caf\udce9')).toBe(true);
    expect(() => nameToBytes('a\ud800b')).toThrow(/lone surrogate U\+D800/);
    expect(() => nameToBytes('a\udc10')).toThrow(RangeError);
    expect(bytesOfName('a\ud800b')).toBeUndefined();
    expect(bytesOfName('caf\udce9')).toEqual(Buffer.from('caf\xe9', 'latin1'));
  });

  it('hands system calls the plain string, or the bytes (with a NUL for C)', () => {
    expect(osPath('/a/café')).toBe('/a/café');
    expect(osPath('/a/caf\udce9')).toEqual(Buffer.from('/a/caf\xe9\0', 'latin1'));
    expect(fsPath('/a/caf\udce9')).toEqual(Buffer.from('/a/caf\xe9', 'latin1'));
    expect(osPath(fsPath('/a/caf\udce9'))).toEqual(Buffer.from('/a/caf\xe9\0', 'latin1'));
    const plain = [3, '/a/café', null];
    expect(osArgs(plain)).toBe(plain);
    expect(osArgs([3, 'caf\udce9', 'uint32_t'])).toEqual([3, Buffer.from('caf\xe9\0', 'latin1'), 'uint32_t']);
  });
});
