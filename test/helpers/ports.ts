import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// Ports for peers the tests start on fixed ports (ganesha, the IPFS peers). A port taken
// by listening on 0 and closing again comes from the kernel's ephemeral range, which the
// kernel hands out again to any connect() or listen(0) of the tests running alongside:
// a peer that binds it a moment later then finds it taken, or a client connects to the
// wrong server. Ports below that range are never handed out by the kernel; this picks one
// at random there, checks that it binds on 127.0.0.1, and never hands it out twice.

/** Ports this process handed out already. */
const handedOut = new Set<number>();
const LOWEST = 10_000;

/** The first port of the kernel's ephemeral range (32768 where /proc does not say). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST + 1_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function binds(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on, below the kernel's ephemeral range. */
export async function unusedPort(): Promise<number> {
  const high = ephemeralLow();
  for (let tries = 0; tries < 200; tries++) {
    const port = LOWEST + Math.floor(Math.random() * (high - LOWEST));
    if (handedOut.has(port) || !(await binds(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free TCP port between ${LOWEST} and ${high} on 127.0.0.1 after 200 tries`);
}
