import { describe, expect, it } from 'vitest';
import { DeadlineQueue, type Timed } from '../../../../src-main/vfs/DeadlineQueue.ts';

function timed(log: string[], name: string): Timed {
  return { at: 0, settled: false, expire: () => log.push(name) };
}

describe('DeadlineQueue: one timer for many calls of one timeout', () => {
  it('expires only unsettled calls, each once, at their own deadline', async () => {
    const q = new DeadlineQueue(40);
    const log: string[] = [];
    const a = timed(log, 'a');
    const b = timed(log, 'b');
    q.add(a);
    await new Promise((r) => setTimeout(r, 20));
    q.add(b);
    const c = timed(log, 'c');
    q.add(c);
    q.settle(c); // settled behind a live one: must never expire
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 30));
    expect(log).toEqual(['a']); // b's deadline is ~20 ms later
    await new Promise((r) => setTimeout(r, 40));
    expect(log).toEqual(['a', 'b']);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(30);
    expect(q.size).toBe(0);
  });

  it('lets go of settled calls and keeps no timer once empty', () => {
    const q = new DeadlineQueue(60_000);
    const log: string[] = [];
    const all = Array.from({ length: 5000 }, (_, i) => timed(log, String(i)));
    for (const t of all) q.add(t);
    for (const t of all) q.settle(t);
    expect(q.size).toBe(0);
    // An armed 60 s timer would keep this test process alive; vitest would report it as hanging.
    expect(q.keepsAlive).toBe(false);
    expect(log).toEqual([]);
    // A call after the queue emptied is timed again (and keeps the process alive while it runs).
    const late = timed(log, 'late');
    q.add(late);
    expect(q.keepsAlive).toBe(true);
    q.settle(late);
    expect(q.keepsAlive).toBe(false);
  });
});
