import { describe, expect, it } from 'vitest';
import { nodeError, RpcError } from '../../../../src-main/ipfs/kuboRpc.ts';
import { NodeHealthMonitor } from '../../../../src-main/ipfs/nodeHealth.ts';
import type { MountHealth } from '../../../../src-shared/mountState.ts';

// The node health monitor: a call that got no answer marks the node unreachable (with the
// address and the fix), calls then fail at once unless a fresh probe finds it back.

const refused = (): Error => nodeError(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }), 'cat', '/ip4/127.0.0.1/tcp/1');

describe('NodeHealthMonitor', () => {
  it('goes unreachable on a call with no answer, fails calls fast while down, and comes back when a probe answers', async () => {
    let up = false;
    let probes = 0;
    const m = new NodeHealthMonitor('/ip4/127.0.0.1/tcp/1', async () => {
      probes++;
      if (!up) throw refused();
    });
    const seen: MountHealth[] = [];
    m.subscribe((h) => seen.push(h));
    expect(m.current().node).toBe('ok');
    m.markDown(refused() as never);
    expect(m.current()).toMatchObject({ node: 'unreachable', address: '/ip4/127.0.0.1/tcp/1', error: { kind: 'Unavailable', hint: expect.stringMatching(/start Kubo.*embedded node/), errno: 'ECONNREFUSED' } });
    await expect(m.admit('cat x')).rejects.toMatchObject({ kind: 'IO', message: expect.stringMatching(/unreachable/) });
    expect(probes).toBe(1);
    up = true;
    await m.admit('cat x');
    expect(m.current().node).toBe('ok');
    expect(seen.map((h) => h.node)).toEqual(['unreachable', 'ok']);
  });

  it('a probe that times out counts as unreachable; an error the node answered does not', async () => {
    const m = new NodeHealthMonitor('a', async () => {
      throw nodeError(new Error('boom'), 'version', 'a', AbortSignal.abort());
    });
    await m.check();
    expect(m.current().node).toBe('unreachable');
    const m2 = new NodeHealthMonitor('b', async () => {
      throw nodeError(new RpcError('internal error', 500, 0), 'version', 'b');
    });
    await m2.check();
    expect(m2.current().node).toBe('ok');
  });
});
