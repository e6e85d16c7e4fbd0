import { describe, expect, it } from 'vitest';
import { perRound, summarize } from '../../../bench/lib/measure.ts';

describe('perRound', () => {
  it('gives each round its own ratio, so a machine that slows down between rounds does not move it', () => {
    // B is 10% quicker than A in every round while the machine slows 3× over the run.
    const a = summarize([100, 200, 300]);
    const b = summarize([90.9, 181.8, 272.7]);
    const r = perRound(a, b);
    expect(r.median).toBeCloseTo(1.1, 2);
    expect(r.max - r.min).toBeLessThan(0.001);
  });

  it('leaves out a round one side did not finish', () => {
    const r = perRound(summarize([10, 20, 30]), summarize([5, 10]));
    expect(r.runs).toEqual([2, 2]);
  });
});
