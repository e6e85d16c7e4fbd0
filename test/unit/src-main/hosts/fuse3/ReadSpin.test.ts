import { describe, expect, it } from 'vitest';
import { ReadSpin, spinMicros } from '../../../../../src-main/hosts/fuse3/ReadSpin.ts';

// When the FUSE session keeps reading an empty queue instead of sleeping in libuv: a wrong
// answer either burns a CPU for a mount that is barely used (a spin after every lone
// request) or loses the speed-up for rm -rf and du (no spin while requests come back to
// back), or holds a reply that waits on a promise (a spin while a handler is pending).

const SPIN = 0.1; // ms

/** One turn: `requests` read, then the queue polled empty at the times `empties` until the spin gives up; returns how many polls said "read again". */
function turn(s: ReadSpin, at: number, requests: number, empties: number[], answered = true): number {
  s.begin(at);
  for (let i = 0; i < requests; i++) s.got();
  let again = 0;
  for (const t of empties) {
    if (!s.empty(t, requests > 0 && answered)) break;
    again++;
  }
  return again;
}

describe('ReadSpin', () => {
  it('does not spin after a lone request that came after a pause', () => {
    const s = new ReadSpin(SPIN);
    expect(turn(s, 1000, 1, [1000.01])).toBe(0);
    // The next request 20 ms later: still a pause.
    expect(turn(s, 1020, 1, [1020.01])).toBe(0);
  });

  it('spins while requests come back to back, and a request caught resets the spin', () => {
    const s = new ReadSpin(SPIN);
    turn(s, 1000, 1, [1000.01]);
    // 50 µs later: one of a run. The queue is polled again until 100 µs passed.
    s.begin(1000.06);
    s.got();
    expect(s.empty(1000.07, true)).toBe(true);
    expect(s.empty(1000.12, true)).toBe(true);
    s.got(); // caught
    expect(s.empty(1000.2, true)).toBe(true);
    expect(s.empty(1000.29, true)).toBe(true);
    expect(s.empty(1000.31, true)).toBe(false); // 110 µs empty: back to libuv
  });

  it('stops after three spins in a row that catch nothing, until a pause', () => {
    const s = new ReadSpin(SPIN);
    let t = 1000;
    turn(s, t, 1, [t + 0.01]);
    // Requests every 300 µs: each spin of 100 µs misses.
    const spins: number[] = [];
    for (let i = 0; i < 5; i++) {
      t += 0.3;
      spins.push(turn(s, t, 1, [t + 0.01, t + 0.05, t + 0.2]));
    }
    expect(spins).toEqual([2, 2, 2, 0, 0]);
    // A 5 ms pause, then a run again: spinning is tried again.
    t += 5;
    expect(turn(s, t, 1, [t + 0.01])).toBe(0);
    t += 0.3;
    expect(turn(s, t, 1, [t + 0.01, t + 0.05, t + 0.2])).toBe(2);
  });

  it('never spins while a reply waits on a promise, nor when the turn read nothing, nor when off', () => {
    const s = new ReadSpin(SPIN);
    turn(s, 1000, 1, [1000.01]);
    expect(turn(s, 1000.05, 1, [1000.06], false)).toBe(0);
    expect(turn(s, 1000.08, 0, [1000.09])).toBe(0);
    const off = new ReadSpin(0);
    turn(off, 1000, 1, [1000.01]);
    expect(turn(off, 1000.02, 1, [1000.03])).toBe(0);
  });
});

describe('spinMicros', () => {
  it('is 100 µs on more than one CPU and off on one, unless BERTH_FUSE_SPIN_US says', () => {
    expect(spinMicros(undefined, 2)).toBe(100);
    expect(spinMicros(undefined, 1)).toBe(0);
    expect(spinMicros('', 8)).toBe(100);
    expect(spinMicros('0', 8)).toBe(0);
    expect(spinMicros('250', 1)).toBe(250);
  });

  it('refuses what is not a whole number of microseconds up to 10,000, saying what it expected', () => {
    for (const bad of ['abc', '-5', '1.5', '20000', '1e3']) {
      expect(() => spinMicros(bad, 2)).toThrow(/BERTH_FUSE_SPIN_US: expected a whole number of microseconds from 0 to 10000, got "/);
    }
  });
});
