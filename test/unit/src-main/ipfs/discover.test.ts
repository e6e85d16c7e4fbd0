import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_API, connectNode, discoverApi, discoverNode } from '../../../../src-main/ipfs/discover.ts';
import { nodeError, RpcError } from '../../../../src-main/ipfs/kuboRpc.ts';
import { FsError } from '../../../../src-main/vfs/FsError.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('discoverApi', () => {
  it('reads the api file of $IPFS_PATH', async () => {
    const d = await mkdtemp(join(tmpdir(), 'berth-discover-'));
    dirs.push(d);
    await writeFile(join(d, 'api'), '/ip4/127.0.0.1/tcp/45001\n');
    expect(await discoverApi({ IPFS_PATH: d })).toBe('/ip4/127.0.0.1/tcp/45001');
  });
  it('falls back to Kubo’s default address when no node wrote one', async () => {
    const d = await mkdtemp(join(tmpdir(), 'berth-discover-'));
    dirs.push(d);
    expect(await discoverApi({ IPFS_PATH: d })).toBe(DEFAULT_API);
  });
});

describe('connectNode', () => {
  const kind = async (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => (e instanceof FsError ? e.kind : String(e)));
  it('refuses what it cannot use yet, and bad addresses, with a message saying what was expected', async () => {
    expect(await kind(connectNode('/unix/run/ipfs.sock'))).toBe('InvalidOperation');
    await expect(connectNode('/ip4/nonsense')).rejects.toThrow(/expected/);
  });
  it('connects lazily: a node that is not there fails on the first call, with IO', async () => {
    const node = await connectNode('/ip4/127.0.0.1/tcp/1');
    await expect(node.stat('QmZdSwKJoJbv1nWhg56msBkYDRnUTgYuZRg4rZUs9C4VWB', { signal: AbortSignal.timeout(5000) })).rejects.toMatchObject({ kind: 'IO' });
  });
});

describe('discoverNode', () => {
  it('takes the settings node first, else a Kubo that answers, else the embedded node', async () => {
    const d = await mkdtemp(join(tmpdir(), 'berth-discover-'));
    dirs.push(d);
    expect(await discoverNode({ defaultNode: '/ip4/127.0.0.1/tcp/4001' })).toBe('/ip4/127.0.0.1/tcp/4001');
    // an api file of a node that is not running (port 1 refuses at once) is passed over
    await writeFile(join(d, 'api'), '/ip4/127.0.0.1/tcp/1\n');
    const found = await discoverNode({ env: { IPFS_PATH: d } });
    // a real Kubo on this machine's :5001 would win; none runs in CI
    expect(['embedded', DEFAULT_API]).toContain(found);
  });
});

describe('nodeError', () => {
  it('maps aborts to Timeout, node answers by status and cmds Code, network failures to IO', () => {
    const ctrl = new AbortController();
    ctrl.abort(new Error('deadline'));
    expect(nodeError(new Error('x'), 'cat', 'a', ctrl.signal).kind).toBe('Timeout');
    expect(nodeError(new RpcError('anything', 404), 'cat', 'a').kind).toBe('NotExist');
    expect(nodeError(new RpcError('anything', 500, 3), 'cat', 'a').kind).toBe('NotExist');
    expect(nodeError(new RpcError('anything', 400, 1), 'cat', 'a').kind).toBe('InvalidItem');
    expect(nodeError(new RpcError('anything', 403), 'cat', 'a').kind).toBe('Permission');
    // Kubo sends resolver failures as Code 0: only its message tells
    expect(nodeError(new RpcError('no link named "x" under Qm', 500, 0), 'resolve', 'a').kind).toBe('NotExist');
    expect(nodeError(new RpcError('merkledag: broken', 500, 0), 'cat', 'a').kind).toBe('IO');
    // a peer's own texts come as a table
    expect(nodeError(new RpcError('ERR_NOT_FOUND', 500, 0), 'cat', 'a', undefined, [[/ERR_NOT_FOUND/, 'NotExist']]).kind).toBe('NotExist');
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const e = nodeError(refused, 'cat', '/ip4/127.0.0.1/tcp/1');
    expect(e.kind).toBe('IO');
    expect(e.message).toMatch(/ECONNREFUSED/);
  });
});
