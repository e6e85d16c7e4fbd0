import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RpcClient } from '../../../../../src-main/nfs/client/RpcClient.ts';

// A server that accepts and never answers: every call stays in flight or queued until its
// caller gives up.
async function silentServer(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

describe('RpcClient and one caller signal', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0)) await f();
  });

  it('aborting one signal shared by 40 calls (in flight and waiting for a slot) rejects them all, with no listener pile-up warning', async () => {
    const { server, port, sockets } = await silentServer();
    const client = new RpcClient({ host: '127.0.0.1', port, maxInFlight: 4, timeoutMs: 60_000 });
    cleanup.push(async () => {
      await client.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    cleanup.push(async () => void process.off('warning', onWarning));

    const ac = new AbortController();
    const calls = Array.from({ length: 40 }, () => client.call(100003, 3, 0, () => {}, ac.signal));
    const settled = Promise.allSettled(calls);
    // Let the first calls reach the wire and the rest queue for a slot.
    await expect.poll(() => sockets.length).toBe(1);
    ac.abort(new Error('caller gave up'));
    const results = await settled;
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'answered'))).toEqual(Array(40).fill('caller gave up'));
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.includes('MaxListeners'))).toEqual([]);
  });
});
