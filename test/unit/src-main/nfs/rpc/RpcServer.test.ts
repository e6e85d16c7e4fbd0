import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptedReply, RpcServer, type FastCall, type RpcProgram } from '../../../../../src-main/nfs/rpc/RpcServer.ts';
import { frameRecord, RecordDecoder } from '../../../../../src-main/nfs/rpc/RecordDecoder.ts';
import { callBody } from '../../../../helpers/rawRpc.ts';

// A program's afterReplies hook (RpcProgram): the work no reply waits on runs once the
// replies of a batch are with the kernel, and a hook that fails is reported, never thrown:
// the connection and the calls after it go on.

const PROG = 400_001;

/** One connection that sends records and collects replies' xids as they arrive. */
async function client(port: number): Promise<{ socket: Socket; send(b: Buffer[]): void; replies(n: number): Promise<number[]> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
  const decoder = new RecordDecoder();
  const got: number[] = [];
  let wake = (): void => {};
  socket.on('data', (c: Buffer) => {
    for (const r of decoder.push(c)) got.push(r.readUInt32BE(0));
    wake();
  });
  return {
    socket,
    send: (records) => socket.write(Buffer.concat(records.flatMap((r) => frameRecord([r])))),
    replies: async (n) => {
      while (got.length < n) await new Promise<void>((r) => (wake = r));
      return got.splice(0, n);
    },
  };
}

describe('RpcServer afterReplies', () => {
  let server: RpcServer | undefined;
  let socket: Socket | undefined;
  afterEach(async () => {
    socket?.destroy();
    await server?.close();
  });

  it('runs once per batch after the replies went out; a hook that throws is reported and the next calls are answered', async () => {
    const order: string[] = [];
    let fail = false;
    const program: RpcProgram = {
      prog: PROG,
      vers: 1,
      procedures: [],
      fast: [(call: FastCall) => {
        order.push(`call ${call.xid}`);
        return { chunks: [acceptedReply(call.xid, 0)] };
      }],
      afterReplies: () => {
        order.push('after');
        if (fail) throw new Error('bookkeeping failed');
      },
    };
    const errors: string[] = [];
    server = new RpcServer({ programs: [program], onError: (e) => errors.push(e.message) });
    const { port } = await server.listen(0, '127.0.0.1');
    const c = await client(port);
    socket = c.socket;

    // The first call on a connection decodes its credentials (the usual path); the rest are answered at once.
    c.send([callBody(1, PROG, 1, 0)]);
    await c.replies(1);
    order.length = 0;
    c.send([callBody(2, PROG, 1, 0), callBody(3, PROG, 1, 0)]);
    expect(await c.replies(2)).toEqual([2, 3]);
    // Both calls came in one chunk: one batch, one hook run, after both.
    expect(order).toEqual(['call 2', 'call 3', 'after']);

    fail = true;
    c.send([callBody(4, PROG, 1, 0)]);
    expect(await c.replies(1)).toEqual([4]);
    await new Promise((r) => setImmediate(r));
    expect(errors).toContain('bookkeeping failed');
    fail = false;
    c.send([callBody(5, PROG, 1, 0)]);
    expect(await c.replies(1)).toEqual([5]);
    expect(socket.destroyed).toBe(false);
  });
});
