import { connect, createServer, type Server, type Socket } from 'node:net';

// A loopback TCP proxy in front of an ONC RPC server (our NFS host or ganesha) that counts
// the calls a client sends, by program and procedure, and the time each waited for its
// reply as the client saw it. Profiling aid (bench/nfsProfile.ts): the same client against
// two servers shows whether one of them makes the client ask more (a reply missing
// attributes, say) or answers slower per call. Tests count a client's calls with it.

const NFS3_PROCS = ['NULL', 'GETATTR', 'SETATTR', 'LOOKUP', 'ACCESS', 'READLINK', 'READ', 'WRITE', 'CREATE', 'MKDIR', 'SYMLINK', 'MKNOD', 'REMOVE', 'RMDIR', 'RENAME', 'LINK', 'READDIR', 'READDIRPLUS', 'FSSTAT', 'FSINFO', 'PATHCONF', 'COMMIT'];

/** Per-procedure counts and summed client-side wait, since start or the last reset. */
export interface RpcCounter {
  readonly port: number;
  /** `NAME count avg-µs` lines, most called first, and a total. */
  report(): string;
  /** Calls answered per procedure name (GETATTR, SETATTR, …). */
  counts(): Record<string, number>;
  reset(): void;
  /** Every call since start or the last reset, as `name start-µs end-µs` lines (times from the first call). */
  timeline(): string;
  close(): Promise<void>;
}

/** Splits one direction's bytes into RPC records and hands each record's head to `onRecord`. */
function recordReader(onRecord: (head: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  let fragment: Buffer[] = [];
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      if (pending.length < 4) return;
      const mark = pending.readUInt32BE(0);
      const len = mark & 0x7fffffff;
      if (pending.length < 4 + len) return;
      // Only the head of a record matters here: keep at most 64 bytes of it.
      if (fragment.length === 0) fragment.push(pending.subarray(4, 4 + Math.min(len, 64)));
      pending = pending.subarray(4 + len);
      if (mark & 0x80000000) {
        onRecord(Buffer.concat(fragment));
        fragment = [];
      }
    }
  };
}

/** Starts a counting proxy on 127.0.0.1 (port 0) in front of 127.0.0.1:`target`. */
export async function startRpcCounter(target: number): Promise<RpcCounter> {
  const stats = new Map<string, { n: number; us: number }>();
  const calls: { name: string; at: bigint; end: bigint }[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    // Without this, Nagle's algorithm holds small replies back for the client's delayed ACK.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    const sent = new Map<number, { name: string; at: bigint }>();
    client.on('data', recordReader((head) => {
      if (head.length < 24 || head.readUInt32BE(4) !== 0) return;
      const prog = head.readUInt32BE(12);
      const proc = head.readUInt32BE(20);
      const name = prog === 100003 ? (NFS3_PROCS[proc] ?? `NFS${proc}`) : `${prog}:${proc}`;
      sent.set(head.readUInt32BE(0), { name, at: process.hrtime.bigint() });
    }));
    upstream.on('data', recordReader((head) => {
      const call = sent.get(head.readUInt32BE(0));
      if (!call) return;
      sent.delete(head.readUInt32BE(0));
      const s = stats.get(call.name) ?? { n: 0, us: 0 };
      const end = process.hrtime.bigint();
      s.n += 1;
      s.us += Number(end - call.at) / 1000;
      calls.push({ name: call.name, at: call.at, end });
      stats.set(call.name, s);
    }));
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    report() {
      const rows = [...stats].sort((a, b) => b[1].n - a[1].n);
      const total = rows.reduce((t, [, s]) => ({ n: t.n + s.n, us: t.us + s.us }), { n: 0, us: 0 });
      return [...rows, ['total', total] as const]
        .map(([name, s]) => `  ${name.padEnd(12)} ${String(s.n).padStart(7)}  ${(s.us / Math.max(1, s.n)).toFixed(0).padStart(6)} µs avg  ${(s.us / 1000).toFixed(0).padStart(7)} ms`)
        .join('\n');
    },
    counts() {
      return Object.fromEntries([...stats].map(([name, s]) => [name, s.n]));
    },
    reset() {
      stats.clear();
      calls.length = 0;
    },
    timeline() {
      const t0 = calls.reduce((m, c) => (c.at < m ? c.at : m), calls[0]?.at ?? 0n);
      return calls.map((c) => `${c.name} ${Number(c.at - t0) / 1000} ${Number(c.end - t0) / 1000}`).join('\n');
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
