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
  const nsec = ((ns % NS_PER_S) + NS_PER_S) % NS_PER_S;
  return [(ns - nsec) / NS_PER_S, nsec];
}
