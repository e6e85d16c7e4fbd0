import { describe, expect, it } from 'vitest';
import { mountInfoListenerCount, mountInfoReadNumber, watchMountInfo, watchUnmount } from '../../../../src-main/hosts/mountInfoWatch.ts';

// Waits for reads of the real /proc/self/mountinfo (one a second), never for a fixed time.

describe('the shared mountinfo watcher', () => {
  it('reads once per tick for every listener and stops when the last one leaves', async () => {
    const seen: number[][] = [[], []];
    const waiters: { n: number; resolve: () => void }[] = [];
    const untilReads = (n: number) => new Promise<void>((resolve) => waiters.push({ n, resolve }));
    const offs = [0, 1].map((i) =>
      watchMountInfo((points, read) => {
        expect(points.has('/')).toBe(true);
        seen[i]!.push(read);
        if (i === 1) for (const w of waiters.filter((x) => seen[1]!.length >= x.n)) w.resolve();
      }),
    );
    const subscribedAt = mountInfoReadNumber();
    let gone = 0;
    let goneAtRead = 0;
    const wentAway = new Promise<void>((resolve) =>
      watchUnmount('/no/such/mount/point', () => {
        gone++;
        goneAtRead = mountInfoReadNumber();
        resolve();
      }),
    );
    await wentAway;
    // Judged by a read begun after it subscribed.
    expect(goneAtRead).toBeGreaterThan(subscribedAt);
    // Two more reads: it was told once, then unsubscribed itself.
    await untilReads(seen[1]!.length + 2);
    expect(gone).toBe(1);
    expect(seen[0]).toEqual(seen[1]);
    expect(mountInfoListenerCount()).toBe(2);
    for (const off of offs) off();
    expect(mountInfoListenerCount()).toBe(0);
  });
});
