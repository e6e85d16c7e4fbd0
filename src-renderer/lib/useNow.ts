import { useEffect, useReducer } from 'react';

/**
 * The current time for a countdown on screen: re-renders every `everyMs` while `live`,
 * and is read afresh on every render, so the first frame after a change is right too.
 */
export function useNow(live: boolean, everyMs = 1000): number {
  const [, tick] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (!live) return;
    const t = setInterval(tick, everyMs);
    return () => clearInterval(t);
  }, [live, everyMs]);
  return Date.now();
}
