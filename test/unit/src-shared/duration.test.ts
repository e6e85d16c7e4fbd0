import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src-shared/duration.ts';

describe('parseDuration', () => {
  it.each([
    ['250', 250],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1h0m5s', 3_605_000],
    [' 2s ', 2000],
  ])('%j -> %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '  ', 'soon', '5x', 's', '1h 30m', '-5s', '5s!', '1e3'])(
    'refuses %j saying what was expected',
    (text) => {
      expect(() => parseDuration(text)).toThrow(/invalid duration .*: expected a number with a unit, like 500ms, 30s, 5m or 1h/);
    },
  );
});

describe('formatDuration', () => {
  it.each([
    [250, '250ms'],
    [0, '0ms'],
    [1000, '1s'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [3_605_000, '1h5s'],
  ])('%i ms -> %j, which parses back', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});
