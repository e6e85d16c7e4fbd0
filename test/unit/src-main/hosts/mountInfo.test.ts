import { describe, expect, it } from 'vitest';
import { isFuseType, parseMountInfo } from '../../../../src-main/hosts/mountInfo.ts';

describe('parseMountInfo', () => {
  it('reads mount id, mount point, type and source, undoing octal escapes', () => {
    const text = [
      '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
      '98 22 0:52 / /tmp/with\\040space rw,nosuid,nodev,relatime shared:60 - fuse berth rw,user_id=0,group_id=0',
      '99 22 0:53 / /mnt/b rw - fuse.bindfs /srv rw',
      'garbage line',
    ].join('\n');
    expect(parseMountInfo(text)).toEqual([
      { id: 22, dev: '8:1', mountpoint: '/', fstype: 'ext4', source: '/dev/sda1' },
      { id: 98, dev: '0:52', mountpoint: '/tmp/with space', fstype: 'fuse', source: 'berth' },
      { id: 99, dev: '0:53', mountpoint: '/mnt/b', fstype: 'fuse.bindfs', source: '/srv' },
    ]);
  });

  it('knows FUSE types', () => {
    expect(isFuseType('fuse')).toBe(true);
    expect(isFuseType('fuse.sshfs')).toBe(true);
    expect(isFuseType('fusectl')).toBe(false);
    expect(isFuseType('ext4')).toBe(false);
  });
});
