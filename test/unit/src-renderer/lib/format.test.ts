import { describe, expect, it } from 'vitest';
import { formatSize, homeOf, nodeLine, rowProblem, sourceParts, stateChip, tildePath, whereText } from '../../../../src-renderer/lib/format.ts';
import { noCidReason } from '../../../../src-renderer/lib/cids.ts';
import { CID, mount } from '../fixtures.ts';

// Words the window shows: every state has its own (colour only repeats them), a failed
// auto-mount counts down to its retry, and paths read the way people write them.

const NOW = Date.parse('2026-11-30T10:00:00.000Z');

describe('state words', () => {
  it('names every state in words, with a colour token beside them', () => {
    const words = (over: Parameters<typeof mount>[1]) => stateChip(mount('a', over), NOW);
    expect(words({ state: 'mounted' })).toEqual({ text: 'mounted', tone: 'ok' });
    expect(words({ state: 'mounting' })).toEqual({ text: 'mounting…', tone: 'busy' });
    expect(words({ state: 'unmounting' })).toEqual({ text: 'unmounting…', tone: 'busy' });
    expect(words({ state: 'failed', nextRetryAt: '2026-11-30T10:00:11.200Z' })).toEqual({ text: 'failed · retry in 12 s', tone: 'bad' });
    expect(words({ state: 'failed' })).toEqual({ text: 'failed', tone: 'bad' });
    expect(words({ state: 'stale' })).toEqual({ text: 'stale — cleaning up', tone: 'warn' });
    expect(words({ state: 'unmounted' })).toEqual({ text: 'unmounted', tone: 'off' });
    expect(words({ state: 'mounted', health: { node: 'unreachable', since: '2026-11-30T09:59:00.000Z' } })).toEqual({ text: 'mounted · node unreachable', tone: 'warn' });
  });

  it('puts the error and its hint under a failed row, with the way out', () => {
    expect(rowProblem(mount('a', { state: 'failed', error: { kind: 'Unavailable', message: 'connection refused', hint: 'is the NFS server running?' } }))).toEqual({
      message: 'connection refused',
      hint: 'is the NFS server running?',
      action: 'retry',
    });
    expect(rowProblem(mount('a', { state: 'stale', error: { kind: 'Closed', message: 'unmounted outside Berth' } }))?.action).toBe('mount');
    expect(rowProblem(mount('a', { state: 'mounted', health: { node: 'unreachable', address: '/ip4/127.0.0.1/tcp/5001', since: '' } }))?.message).toBe(
      'cannot reach 127.0.0.1:5001; reads fail until it answers',
    );
    expect(rowProblem(mount('a'))).toBeUndefined();
  });
});

describe('paths, sources and sizes', () => {
  it('writes the home folder as ~ when the page can know it', () => {
    expect(homeOf('/home/ana/Berth', undefined)).toBe('/home/ana');
    expect(homeOf('/srv/mounts', '/srv/mounts')).toBeUndefined();
    expect(tildePath('/home/ana/Berth/site', '/home/ana')).toBe('~/Berth/site');
    expect(tildePath('/home/anastasia/x', '/home/ana')).toBe('/home/anastasia/x');
    expect(whereText(mount('site'), '/home/ana')).toBe('~/Berth/site');
  });

  it('shows an NFS server by the address it really listens on', () => {
    const m = mount('n', { address: '/ip4/127.0.0.1/tcp/40123' });
    m.spec = { ...m.spec, host: { kind: 'nfs', listen: '/ip4/127.0.0.1/tcp/0', readOnly: true, clients: [], rootSquash: true, reservedPort: false, allowUids: [] } };
    expect(whereText(m)).toBe('NFS 127.0.0.1:40123');
  });

  it('shortens CIDs in the source column, keeping the full one for the tooltip', () => {
    expect(sourceParts({ kind: 'ipfs', root: `/ipfs/${CID}/docs` })).toEqual({ kind: 'ipfs', detail: 'bafy…qg7i/docs', full: `/ipfs/${CID}/docs` });
    expect(sourceParts({ kind: 'nfs', server: '/ip4/10.0.0.2/tcp/2049', export: '/' }).detail).toBe('10.0.0.2:2049:/');
  });

  it('sizes in binary units', () => {
    expect([formatSize(0), formatSize(16), formatSize(1536), formatSize(50 * 1024 * 1024 + 1)]).toEqual(['0 B', '16 B', '1.5 KiB', '50 MiB']);
  });

  it('the node line says who answers, or that nothing does', () => {
    expect(nodeLine({ address: '/ip4/127.0.0.1/tcp/5001', source: 'discovered', reachable: true, agent: 'kubo/0.38.0', checkedAt: '' }).text).toBe('IPFS: kubo/0.38.0 at 127.0.0.1:5001');
    const down = nodeLine({ address: '/ip4/127.0.0.1/tcp/5001', source: 'default', reachable: false, error: { kind: 'Unavailable', message: 'connection refused' }, checkedAt: '' });
    expect(down).toEqual({ text: 'IPFS: not reachable at 127.0.0.1:5001', tone: 'bad', detail: 'connection refused' });
    const own = nodeLine({ address: 'embedded', source: 'embedded', reachable: true, agent: 'berth-embedded (@helia/unixfs, trustless gateways), offline', checkedAt: '' });
    expect(own.text).toBe('IPFS: Berth’s own node (offline)');
  });
});

describe('why there is no CID', () => {
  it('says why for guests without CIDs and for content that is not mounted', () => {
    const m = (guest: ReturnType<typeof mount>['spec']['guest'], state: ReturnType<typeof mount>['state'] = 'mounted') => {
      const x = mount('x', { state });
      x.spec = { ...x.spec, guest };
      return x;
    };
    expect(noCidReason(m({ kind: 'nfs', server: '/ip4/10.0.0.2/tcp/2049', export: '/' }), '/')).toBe('NFS shares have no CID');
    expect(noCidReason(m({ kind: 'local', path: '/srv', readOnly: true }), '/')).toBe('Local folders have no CID');
    expect(noCidReason(m({ kind: 'pinfs' }), '/')).toMatch(/^The pin list has no CID/);
    expect(noCidReason(m({ kind: 'pinfs' }), '/bafy/x')).toBeUndefined();
    // A bare CID root is known without the mount; anything deeper needs it mounted.
    expect(noCidReason(m({ kind: 'ipfs', root: `/ipfs/${CID}` }, 'unmounted'), '/')).toBeUndefined();
    expect(noCidReason(m({ kind: 'ipfs', root: `/ipfs/${CID}/docs` }, 'unmounted'), '/')).toBe('Mount it first: its CID is looked up through the mount');
  });
});
