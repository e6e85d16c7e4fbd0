// Times kept as exact nanoseconds since the epoch (Attr.*Ns, SetAttr.*Ns) split the way
// struct timespec and nfstime3 hold them.

const NS_PER_S = 1_000_000_000n;

/** The exact nanoseconds of a time given as whole seconds and the nanoseconds past them. */
export function joinNs(sec: number, nsec: number): bigint {
  return BigInt(sec) * NS_PER_S + BigInt(nsec);
}

/**
 * Whole seconds and the nanoseconds past them, 0 ≤ nsec < 10^9: floored, so a time before
 * 1970 (-1.5 s) is -2 s + 500,000,000 ns, as struct timespec has it.
 */
export function splitNs(ns: bigint): [sec: bigint, nsec: bigint] {
  // Two BigInt operations (each allocates): every fattr3 and struct stat splits three times.
  const sec = ns / NS_PER_S;
  const nsec = ns % NS_PER_S;
  return nsec < 0n ? [sec - 1n, nsec + NS_PER_S] : [sec, nsec];
}

/**
 * Whole seconds and the nanoseconds past them of a time in ms (a double, maybe fractional),
 * rounded to whole microseconds: a double in ms carries ~0.25 µs at today's dates, and a
 * time set in µs (Node's utimes, most tools) then reads back exactly. A rounding that
 * reaches the next second carries into it.
 */
export function msToSecNsec(ms: number): [sec: number, nsec: number] {
  const sec = Math.floor(ms / 1000);
  const nsec = Math.round((ms - sec * 1000) * 1000) * 1000;
  return nsec >= 1_000_000_000 ? [sec + 1, nsec - 1_000_000_000] : [sec, nsec];
}

/** Whole seconds and nanoseconds of a time given in ms and maybe exact ns (the ns when given). */
export function secNsecOf(ms: number, ns: bigint | undefined): [sec: number, nsec: number] {
  if (ns === undefined) return msToSecNsec(ms);
  const [s, n] = splitNs(ns);
  return [Number(s), Number(n)];
}
