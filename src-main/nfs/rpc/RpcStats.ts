import { appendFileSync } from 'node:fs';

// Per-procedure call counts and main-thread time of an RpcServer, for profiling a workload
// (which calls a client sends, and what each costs the host). Off unless BERTH_RPC_STATS
// names a file: the report is appended there when the server closes, and on SIGUSR2 (which
// also starts the counts afresh: one report per workload of a benchmark). Time is wall time from
// a call's decode to its reply being queued, which on this single thread is mostly CPU.

/** Counts and time per "prog/vers/proc", owned by one RpcServer. */
export class RpcStats {
  private readonly rows = new Map<number, { calls: number; fast: number; ns: bigint }>();
  private started = process.cpuUsage();

  constructor(readonly file: string) {}

  /** The stats file BERTH_RPC_STATS names, or undefined (stats off). */
  static fromEnv(): RpcStats | undefined {
    const f = process.env.BERTH_RPC_STATS;
    if (!f) return undefined;
    const stats = new RpcStats(f);
    process.on('SIGUSR2', () => stats.dump());
    return stats;
  }

  /** Appends the report to the file and starts counting afresh. */
  dump(): void {
    appendFileSync(this.file, `${this.text()}--\n`);
    this.rows.clear();
    this.started = process.cpuUsage();
  }

  /** Accounts one call of procedure `proc` of program `prog` that took `ns`. */
  add(prog: number, proc: number, ns: bigint, fast: boolean): void {
    const key = (prog % 1_000_000) * 1000 + proc;
    let row = this.rows.get(key);
    if (!row) this.rows.set(key, (row = { calls: 0, fast: 0, ns: 0n }));
    row.calls++;
    if (fast) row.fast++;
    row.ns += ns;
  }

  /** The report as text: one line per procedure, then the process's CPU since start. */
  text(): string {
    const cpu = process.cpuUsage(this.started);
    const lines = [...this.rows.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([k, r]) => `prog ${Math.floor(k / 1000)} proc ${k % 1000}: ${r.calls} calls (${r.fast} sync), ${(Number(r.ns) / 1e6).toFixed(1)} ms, ${(Number(r.ns) / 1e3 / r.calls).toFixed(1)} us/call`);
    lines.push(`process cpu since start: user ${(cpu.user / 1000).toFixed(0)} ms, system ${(cpu.system / 1000).toFixed(0)} ms`);
    return `${lines.join('\n')}\n`;
  }
}
