/** Parses "250ms", "30s", "1m", "1h30m" or a bare number of milliseconds; throws with what was expected. */
export function parseDuration(input: string): number {
  const s = input.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let matched = 0;
  re.lastIndex = 0;
  while (re.lastIndex < s.length) {
    const m = re.exec(s);
    if (!m) break;
    const unit = m[2] as 'ms' | 's' | 'm' | 'h';
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit];
    matched = re.lastIndex;
  }
  if (s.length === 0 || matched !== s.length) {
    throw new Error(`invalid duration ${JSON.stringify(input.slice(0, 40))}: expected a number with a unit, like 500ms, 30s, 5m or 1h`);
  }
  return Math.round(total);
}

/** Formats milliseconds the way parseDuration reads them back ("1m30s", "250ms"). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let rest = Math.round(ms / 1000);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}
