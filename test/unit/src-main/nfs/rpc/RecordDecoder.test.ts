import { describe, expect, it } from 'vitest';
import { frameRecord, RecordDecoder, RecordError } from '../../../../../src-main/nfs/rpc/RecordDecoder.ts';

function fragment(data: Buffer, last: boolean): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(((last ? 0x8000_0000 : 0) | data.length) >>> 0);
  return Buffer.concat([h, data]);
}

describe('RecordDecoder (RFC 5531 §11 record marking)', () => {
  it('joins multi-fragment records and splits several records in one chunk', () => {
    const d = new RecordDecoder();
    const stream = Buffer.concat([
      fragment(Buffer.from('hel'), false),
      fragment(Buffer.from(''), false),
      fragment(Buffer.from('lo'), true),
      fragment(Buffer.from('second'), true),
    ]);
    expect(d.push(stream).map(String)).toEqual(['hello', 'second']);
  });

  it('reassembles records delivered one byte at a time', () => {
    const d = new RecordDecoder();
    const stream = Buffer.concat([fragment(Buffer.from('abcdefgh'), false), fragment(Buffer.from('ij'), true)]);
    const out: string[] = [];
    for (const b of stream) out.push(...d.push(Buffer.from([b])).map(String));
    expect(out).toEqual(['abcdefghij']);
  });

  it('refuses a record over the limit as soon as its header announces it', () => {
    const d = new RecordDecoder(1024);
    expect(() => d.push(Buffer.from([0x80, 0x00, 0x10, 0x00]))).toThrow(RecordError);
    const e = new RecordDecoder(1024);
    e.push(fragment(Buffer.alloc(1000), false));
    expect(() => e.push(fragment(Buffer.alloc(100), true))).toThrow(/exceeds the limit/);
  });

  it('takes a chunk that is one whole record as it is, and a record split after it as before', () => {
    const d = new RecordDecoder(1024);
    expect(d.push(fragment(Buffer.from('whole'), true)).map(String)).toEqual(['whole']);
    const split = fragment(Buffer.from('split record'), true);
    expect(d.push(split.subarray(0, 7))).toEqual([]);
    expect(d.push(split.subarray(7)).map(String)).toEqual(['split record']);
    // A whole record over the limit is refused even when it comes in one chunk.
    expect(() => d.push(fragment(Buffer.alloc(1028), true))).toThrow(RecordError);
  });

  it('frames a reply as one last fragment', () => {
    const chunks = frameRecord([Buffer.from('ab'), Buffer.from('cd')]);
    const whole = Buffer.concat(chunks);
    expect(whole.readUInt32BE(0)).toBe(0x8000_0004);
    expect(new RecordDecoder().push(whole).map(String)).toEqual(['abcd']);
  });
});
