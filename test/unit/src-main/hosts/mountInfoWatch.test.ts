import { describe, expect, it } from 'vitest';
import { mountInfoListenerCount, watchMountInfo, watchUnmount } from '../../../../src-main/hosts/mountInfoWatch.ts';

describe('the shared mountinfo watcher', () => {
  it('reads once per tick for every listener and stops when the last one leaves', async () => {
    const seen: number[][] = [[], []];
    const offs = [0, 1].map((i) => watchMountInfo((points, read) => {
      expect(points.has('/')).toBe(true);
      seen[i]!.push(read);
    }));
    let gone = 0;
    watchUnmount('/no/such/mount/point', () => gone++);
    await new Promise((r) => setTimeout(r, 2_300));
    expect(seen[0]!.length).toBeGreaterThan(0);
    expect(seen[0]).toEqual(seen[1]);
    // Judged by a read begun after it subscribed, once, then unsubscribed by itself.
    expect(gone).toBe(1);
    expect(mountInfoListenerCount()).toBe(2);
    for (const off of offs) off();
    expect(mountInfoListenerCount()).toBe(0);
  });
});
