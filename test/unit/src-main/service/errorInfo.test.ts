import { describe, expect, it } from 'vitest';
import { MountSpecSchema } from '../../../../src-shared/mountSpec.ts';
import { ServiceError, toErrorInfo } from '../../../../src-main/service/errorInfo.ts';
import { FsError } from '../../../../src-main/vfs/FsError.ts';

const ipfs = MountSpecSchema.parse({ id: 'm_1', host: { kind: 'fuse', mountpoint: '/mnt/ipfs' }, guest: { kind: 'ipfs' } });

describe('toErrorInfo', () => {
  it('tells the user to start the IPFS node when the connection is refused', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5001'), { code: 'ECONNREFUSED' });
    const info = toErrorInfo(new TypeError('fetch failed', { cause }), ipfs);
    expect(info).toMatchObject({ kind: 'Unavailable', errno: 'ECONNREFUSED' });
    expect(info.hint).toMatch(/ipfs daemon/);
  });
  it('keeps FsError kinds and names the errno', () => {
    const info = toErrorInfo(new FsError('NotEmpty', 'mount point /mnt/ipfs is not empty'), ipfs);
    expect(info).toMatchObject({ kind: 'NotEmpty', errno: 'ENOTEMPTY' });
    expect(info.hint).toMatch(/not empty/);
  });
  it('keeps a service error as it is, and never carries a stack', () => {
    const info = toErrorInfo(new ServiceError('Conflict', 'in use', 'pick another'));
    expect(info).toEqual({ kind: 'Conflict', message: 'in use', hint: 'pick another' });
    expect(JSON.stringify(toErrorInfo(new Error('boom')))).not.toMatch(/at .*\.ts/);
  });
  it('reports anything else as IO', () => {
    expect(toErrorInfo('weird').kind).toBe('IO');
  });
});
