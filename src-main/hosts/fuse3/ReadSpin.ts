import { FsError } from '../../vfs/FsError.ts';

// When the session's reading may keep trying an empty /dev/fuse instead of going back to
// libuv (FuseSession.ts says why). A program making one system call after another sends its
// next request microseconds after its last reply; a spin catches it without the sleep and
// wake-up of a loop turn. A spin is tried only when the requests of this turn came soon
// after the queue was last empty (BUSY_MS: a lone stat every few milliseconds is not
// followed by a spin it would only waste), and stops after MAX_MISSES spins in a row caught
// nothing, until a pause or a request that came within a spin anyway.

/** A request this soon (ms) after the queue was last found empty is one of a run of them. */
const BUSY_MS = 1;
/** Spins in a row that catch nothing before spinning stops (until a pause). */
const MAX_MISSES = 3;
/** Longest spin BERTH_FUSE_SPIN_US may ask for (µs). */
const MAX_SPIN_US = 10_000;
/** The spin when none is asked for (µs), on more than one CPU. */
const DEFAULT_SPIN_US = 100;

/**
 * How long (µs) a spin lasts: `asked` (BERTH_FUSE_SPIN_US) when set, 0 turning spins off;
 * else DEFAULT_SPIN_US, or 0 on a single CPU, where the caller could not run while this
 * thread spins.
 */
export function spinMicros(asked: string | undefined, cpus: number): number {
  if (asked === undefined || asked.trim() === '') return cpus > 1 ? DEFAULT_SPIN_US : 0;
  const us = /^\d+$/.test(asked.trim()) ? Number(asked) : NaN;
  if (!(us <= MAX_SPIN_US)) throw new FsError('InvalidItem', `BERTH_FUSE_SPIN_US: expected a whole number of microseconds from 0 to ${MAX_SPIN_US}, got ${JSON.stringify(asked.slice(0, 40))}`);
  return us;
}

/** One session's spin state; times are performance.now() milliseconds. */
export class ReadSpin {
  /** When the queue was last found empty for good (the turn returned to libuv). */
  private idleSince = -Infinity;
  /** When the queue was found empty in this turn, -1 when a request came since. */
  private emptyAt = -1;
  private misses = 0;
  private spinning = false;

  /** `spinMs`: how long a spin lasts (0: never). */
  constructor(private readonly spinMs: number) {}

  /** A turn of reading begins. */
  begin(now: number): void {
    const gap = now - this.idleSince;
    // A pause, or a request that came within a spin anyway: spinning is worth trying again.
    if (gap >= BUSY_MS || gap < this.spinMs) this.misses = 0;
    this.spinning = this.spinMs > 0 && gap < BUSY_MS && this.misses < MAX_MISSES;
    this.emptyAt = -1;
  }

  /** A request was read. */
  got(): void {
    if (this.emptyAt < 0) return;
    // Caught by a spin.
    this.emptyAt = -1;
    this.misses = 0;
  }

  /**
   * The queue is empty. `mayWait`: this turn read requests and every request read has been
   * answered (a reply still waiting on a promise needs the loop). True: read again.
   */
  empty(now: number, mayWait: boolean): boolean {
    if (this.emptyAt < 0) this.emptyAt = now;
    if (this.spinning && mayWait) {
      if (now - this.emptyAt < this.spinMs) return true;
      this.misses++;
    }
    this.idleSince = this.emptyAt;
    return false;
  }
}
