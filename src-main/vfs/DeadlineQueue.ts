// Deadlines of calls that all share one timeout, with ONE timer. A timer per call
// (setTimeout, AbortSignal.timeout) costs a timer-list insert and removal plus its
// closures on every guest call; with one timeout length, deadlines arrive in the order
// calls start, so a FIFO queue and one timer armed for its oldest live entry serve them
// all, at the same precision.

/** One call's place in a DeadlineQueue. */
export interface Timed {
  /** When it expires (performance.now() milliseconds); set by the queue. */
  at: number;
  /** Set by settle(): the call finished and must never expire. */
  settled: boolean;
  /** Called once when the deadline passes first. */
  expire(): void;
}

/** Deadlines of one timeout length, oldest first; owned by the wrapper that creates it. */
export class DeadlineQueue {
  private q: Timed[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(readonly ms: number) {}

  /** Starts the clock for `t`: it expires in `ms` unless settled first. */
  add(t: Timed): void {
    t.at = performance.now() + this.ms;
    t.settled = false;
    this.q.push(t);
    if (this.timer === undefined) this.arm();
  }

  /** Marks `t` finished; its entry is dropped once it reaches the head. */
  settle(t: Timed): void {
    t.settled = true;
    if (this.q[this.head] === t) this.advance();
  }

  /** Calls waiting (tests check that finished calls are let go). */
  get size(): number {
    return this.q.length - this.head;
  }

  private advance(): void {
    const q = this.q;
    while (this.head < q.length && q[this.head]!.settled) q[this.head++] = undefined as unknown as Timed;
    if (this.head === q.length) {
      // Nothing left: no timer may keep the process alive for a call that already ended.
      this.q = [];
      this.head = 0;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.armedFor = Infinity;
    } else if (this.head > 1024 && this.head * 2 > q.length) {
      this.q = q.slice(this.head);
      this.head = 0;
    }
  }

  private arm(): void {
    const next = this.q[this.head];
    if (!next) return;
    // An armed timer that fires before the head's deadline just re-arms; one that would fire later must be replaced.
    if (this.timer !== undefined && this.armedFor <= next.at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedFor = next.at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, Math.ceil(next.at - performance.now())));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    while (this.head < this.q.length) {
      const t = this.q[this.head]!;
      if (!t.settled && t.at > now) break;
      this.q[this.head++] = undefined as unknown as Timed;
      if (!t.settled) {
        t.settled = true;
        try {
          t.expire();
        } catch {
          // one caller's failure must not stop the others' deadlines
        }
      }
    }
    this.advance();
    this.arm();
  }
}
