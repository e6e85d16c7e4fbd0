import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue, type Timed } from '../../../../src-main/vfs/DeadlineQueue.ts';

// Fake timers and a fake performance.now(): the queue's clock, so every step below is
// exact and nothing depends on how busy the machine is.

function timed(log: string[], name: string, expire?: () => void): Timed {
  return { at: 0, settled: false, expire: expire ?? (() => log.push(name)) };
}

describe('DeadlineQueue: one timer for many calls of one timeout', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires only unsettled calls, each once, at their own deadline', () => {
    const q = new DeadlineQueue(40);
    const log: string[] = [];
    q.add(timed(log, 'a')); // due at 40
    vi.advanceTimersByTime(20);
    q.add(timed(log, 'b')); // due at 60
    const c = timed(log, 'c');
    q.add(c);
    q.settle(c); // settled behind a live one: must never expire
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(19);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['a']);
    vi.advanceTimersByTime(19);
    expect(log).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['a', 'b']);
    vi.advanceTimersByTime(1000);
    expect(log).toEqual(['a', 'b']);
    expect(q.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('arms one timer for thousands of calls, and none once they are all settled', () => {
    const q = new DeadlineQueue(60_000);
    const log: string[] = [];
    const all = Array.from({ length: 5000 }, (_, i) => timed(log, String(i)));
    for (const t of all) q.add(t);
    expect(vi.getTimerCount()).toBe(1);
    for (const t of all) q.settle(t);
    expect(q.size).toBe(0);
    // A timer left armed would keep a daemon's event loop busy for a call that ended.
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(120_000);
    expect(log).toEqual([]);
  });

  it('re-arms for the next live call when the head settles early', () => {
    const q = new DeadlineQueue(40);
    const log: string[] = [];
    const a = timed(log, 'a');
    q.add(a); // due at 40
    vi.advanceTimersByTime(30);
    q.add(timed(log, 'b')); // due at 70
    q.settle(a);
    vi.advanceTimersByTime(39);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['b']);
  });

  it('one expire that throws does not stop the others', () => {
    const q = new DeadlineQueue(10);
    const log: string[] = [];
    q.add(timed(log, 'bad', () => {
      throw new Error('caller bug');
    }));
    q.add(timed(log, 'good'));
    vi.advanceTimersByTime(10);
    expect(log).toEqual(['good']);
    expect(q.size).toBe(0);
  });
});
