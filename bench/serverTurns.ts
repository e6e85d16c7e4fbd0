import { createInterface } from 'node:readline';
import { quantile } from './lib/measure.ts';

// Profiling aid (not part of `npm run bench`): how long a server holds each call, from the
// end of the system call that received it to the start of the one that sends its reply, per
// thread, with the system calls made in between. Reads `perf script` of system-call
// tracepoints on stdin (x86-64 system call numbers):
//   NFS_PROFILE_PERF=<dir> NFS_PROFILE_PERF_ARGS="-e raw_syscalls:sys_enter,raw_syscalls:sys_exit" npx tsx bench/nfsProfile.ts find du
//   perf script -i <dir>/du-berth.data -F tid,time,event,trace | npx tsx bench/serverTurns.ts [socket fd, hex]
// Without a socket fd, the descriptor that sent the most replies is taken. Receives shorter
// than 40 bytes (a record mark read by itself) are not a call's start.

/** x86-64 system call numbers by name, for those this reads and those it names. */
const NR: Record<number, string> = {
  0: 'read', 1: 'write', 3: 'close', 7: 'poll', 17: 'pread64', 18: 'pwrite64', 20: 'writev', 44: 'sendto', 45: 'recvfrom', 46: 'sendmsg', 47: 'recvmsg',
  74: 'fsync', 75: 'fdatasync', 89: 'readlink', 202: 'futex', 232: 'epoll_wait', 233: 'epoll_ctl', 257: 'openat', 262: 'newfstatat', 281: 'epoll_pwait', 332: 'statx',
};
const RECEIVES = new Set([0, 45, 47]);
const SENDS = new Set([1, 20, 44, 46]);
/** Shortest receive taken as the start of a call. */
const MIN_CALL_BYTES = 40;

const LINE = /^\s*(\d+)\s+([\d.]+):\s+raw_syscalls:sys_(enter|exit): NR (\d+) (.*)$/;

interface Event {
  tid: string;
  t: number;
  enter: boolean;
  nr: number;
  /** First argument (enter: the descriptor, in hex) or the return value (exit). */
  value: string;
}

async function main(): Promise<void> {
  const events: Event[] = [];
  for await (const line of createInterface({ input: process.stdin })) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, tid, t, kind, nr, rest] = m;
    const enter = kind === 'enter';
    const value = enter ? rest!.replace(/^\(/, '').split(',')[0]!.trim() : rest!.split('=')[1]!.trim();
    events.push({ tid: tid!, t: Number(t), enter, nr: Number(nr), value });
  }
  const fd = process.argv[2] ?? busiestSender(events);
  if (fd === undefined) throw new Error('no replies sent in this trace: record raw_syscalls:sys_enter and sys_exit of a serving process');
  const open = new Map<string, { nr: number; fd: string }>();
  const since = new Map<string, number>();
  const held: number[] = [];
  const between = new Map<string, number>();
  for (const e of events) {
    if (e.enter) {
      open.set(e.tid, { nr: e.nr, fd: e.value });
      const start = since.get(e.tid);
      if (start === undefined) continue;
      if (SENDS.has(e.nr) && e.value === fd) {
        held.push((e.t - start) * 1e6);
        since.delete(e.tid);
      } else {
        const name = NR[e.nr] ?? `#${e.nr}`;
        between.set(name, (between.get(name) ?? 0) + 1);
      }
    } else {
      const call = open.get(e.tid);
      if (call && RECEIVES.has(e.nr) && call.fd === fd && Number(e.value) >= MIN_CALL_BYTES) since.set(e.tid, e.t);
    }
  }
  if (held.length === 0) throw new Error(`no call received and answered on descriptor ${fd}`);
  held.sort((a, b) => a - b);
  const at = (q: number): string => quantile(held, q).toFixed(0);
  const mean = held.reduce((a, b) => a + b, 0) / held.length;
  console.log(`socket fd 0x${fd}: ${held.length} calls held from receive to reply: median ${at(0.5)} µs (p25 ${at(0.25)}, p75 ${at(0.75)}, p90 ${at(0.9)}), mean ${mean.toFixed(0)} µs`);
  const per = [...between].sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n} ${(c / held.length).toFixed(2)}`);
  console.log(`system calls in between, per call: ${per.join(', ') || 'none'}`);
}

/** The descriptor (hex, as perf prints it) with the most send calls. */
function busiestSender(events: Event[]): string | undefined {
  const n = new Map<string, number>();
  for (const e of events) if (e.enter && SENDS.has(e.nr)) n.set(e.value, (n.get(e.value) ?? 0) + 1);
  return [...n].sort((a, b) => b[1] - a[1])[0]?.[0];
}

await main();
