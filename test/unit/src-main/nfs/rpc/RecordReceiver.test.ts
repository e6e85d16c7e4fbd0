import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RecordError } from '../../../../../src-main/nfs/rpc/RecordDecoder.ts';
import { RecordReceiver } from '../../../../../src-main/nfs/rpc/RecordReceiver.ts';

function fragment(data: Buffer, last: boolean): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(((last ? 0x8000_0000 : 0) | data.length) >>> 0);
  return Buffer.concat([h, data]);
}

/** Plays a byte stream through the receiver the way a socket would: each read fills at most `max` bytes of the buffer it was given. */
function play(stream: Buffer, maxRead: number, maxRecord = 1 << 24): Buffer[] {
  const out: Buffer[] = [];
  const r = new RecordReceiver(maxRecord, (rec) => out.push(rec));
  let at = 0;
  while (at < stream.length) {
    const buf = r.nextBuffer();
    const n = Math.min(buf.length, maxRead, stream.length - at);
    stream.copy(buf, 0, at, at + n);
    at += n;
    r.received(n);
  }
  return out;
}

describe('RecordReceiver (record marking read in place)', () => {
  const big = randomBytes(1024 * 1024 + 5);
  const stream = Buffer.concat([
    fragment(Buffer.from('small'), true),
    fragment(big.subarray(0, 300_000), false),
    fragment(Buffer.alloc(0), false),
    fragment(big.subarray(300_000), true),
    fragment(Buffer.from('tail'), true),
  ]);

  for (const maxRead of [1, 3, 4096, 65_536, 1 << 22]) {
    it(`reassembles records read ${maxRead} bytes at a time`, () => {
      const recs = play(stream, maxRead);
      expect(recs.map((r) => r.length)).toEqual([5, big.length, 4]);
      expect(recs[0]!.toString()).toBe('small');
      expect(recs[1]!.equals(big)).toBe(true);
      expect(recs[2]!.toString()).toBe('tail');
    });
  }

  it('refuses a record over the limit from its header', () => {
    expect(() => play(fragment(Buffer.alloc(2000), true), 1 << 20, 1024)).toThrow(RecordError);
  });
});
