import type { Socket } from 'node:net';
import type { CredCache } from './messages.ts';
import { RecordDecoder, RecordError } from './RecordDecoder.ts';
import type { FastReply, FileBody, RpcServer } from './RpcServer.ts';
import type { RpcStats } from './RpcStats.ts';
import { canWaitInline, InlineStay } from './inlineWait.ts';
import { canSendDirect, sendFileRange, sendHead } from './sendFile.ts';

// One TCP connection of the RPC server (RpcServer.ts): records decoded as they arrive, calls
// answered at once when their program can (tryFast; or decided at once and answered when
// their one system call off this thread is done) or queued and run concurrently up to the
// server's bound, replies written as each finishes, tagged with its xid, and reading paused
// while too many calls or unsent reply bytes are waiting (a client that stops reading).
// A connection that answered all its calls at once waits for its next ones on the spot
// while nothing else needs the event loop (inlineWait.ts).

/** Records decoded but not yet started, past which the socket stops being read. */
const MAX_QUEUED = 64;
/** Reply bytes buffered for a slow reader, past which the socket stops being read. */
const MAX_UNSENT = 16 * 1024 * 1024;

/** One client connection of an RpcServer; owns its decoder, its call queue and its abort signal. */
export class RpcConnection {
  private readonly decoder: RecordDecoder;
  private readonly queue: Buffer[] = [];
  private inFlight = 0;
  private readonly abort = new AbortController();
  private paused = false;
  /** The client's credentials as last decoded (messages.ts: decoded once per connection). */
  private readonly creds: { last?: CredCache } = {};

  constructor(
    private readonly socket: Socket,
    private readonly remote: string,
    private readonly server: RpcServer,
  ) {
    this.decoder = new RecordDecoder(server.limits.maxRecord);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {}); // 'close' follows; a reset by the peer is not our failure
    socket.on('close', () => this.abort.abort(new Error('connection closed')));
    socket.on('drain', () => this.maybeResume());
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.take(chunk);
    if (!canWaitInline()) return;
    // Every call answered, nothing in flight, nothing queued or unsent: the next call is
    // waited for here, for as long as nothing else needs the loop (InlineStay.next). No
    // 'data' event comes while it waits (a resume() emits on a later tick), so none nests.
    let stay: InlineStay | undefined;
    for (;;) {
      // Bytes still in the stream's buffer (read before a pause) come first: never overtaken.
      if (this.inFlight > 0 || this.queue.length > 0 || this.paused || this.socket.destroyed || this.socket.readableLength > 0) return;
      const fd = this.directFd();
      if (fd === undefined) return;
      stay ??= new InlineStay();
      const next = stay.next(fd);
      if (!next) return;
      this.take(next);
    }
  }

  /** Decodes a chunk's records and answers or queues each. */
  private take(chunk: Buffer): void {
    let records: Buffer[];
    try {
      records = this.decoder.push(chunk);
    } catch (err) {
      if (err instanceof RecordError) this.server.report(err, this.remote);
      this.socket.destroy();
      return;
    }
    // Replies answered synchronously from one batch of records leave in one writev (a
    // client that pipelines, as the kernel's does, gets them with one system call). A lone
    // record's reply is not corked (the stream would queue it and build a writev for it: ~300
    // bytes of garbage per call in clearBuffer alone, V8's sampling heap profiler), and goes to
    // the socket with one send(2) when nothing waits before it (send()).
    const batch = records.length > 1;
    if (batch) this.socket.cork();
    try {
      for (const r of records) {
        // Only with nothing queued: a call answered at once never overtakes one waiting for
        // its turn. One already started may finish after it (calls in flight at once have no
        // order, §9: each reply carries its xid), so each call is started before the next is read.
        if (this.queue.length === 0 && this.fast(r)) continue;
        this.queue.push(r);
        this.pump();
      }
    } finally {
      if (batch) this.socket.uncork();
    }
    this.pump();
  }

  /**
   * Answers a record synchronously when its program can (RpcServer.tryFast), or takes its
   * reply to come (a promise: the call is then in flight); false when it must go the usual way.
   */
  private fast(record: Buffer): boolean {
    // A client that stops reading gets no more answers here: its calls queue, and the
    // queue's bound stops reading its socket (each answer may hold a pooled buffer).
    if (this.socket.writableLength > MAX_UNSENT) return false;
    let reply: FastReply | Promise<FastReply> | undefined;
    const t0 = this.server.stats ? process.hrtime.bigint() : 0n;
    try {
      reply = this.server.tryFast(record, this.remote, this.creds, this.abort.signal, this.inFlight < this.server.limits.maxInFlight);
    } catch (err) {
      // A fast path must never throw; if one does, the usual path answers the call.
      this.server.report(err instanceof Error ? err : new Error(String(err)), this.remote);
      return false;
    }
    if (!reply) return false;
    if (reply instanceof Promise) {
      this.inFlight++;
      void reply
        .then((r) => {
          if (this.server.stats) account(this.server.stats, record, process.hrtime.bigint() - t0, true);
          this.deliver(r);
        })
        .catch((err: unknown) => {
          // It must not reject: if it does (or its reply cannot be written), the call has no
          // answer, and the client retries on a new connection.
          this.server.report(err instanceof Error ? err : new Error(String(err)), this.remote);
          this.socket.destroy();
        })
        .finally(() => {
          this.inFlight--;
          this.pump();
          this.maybeResume();
        });
      return true;
    }
    if (this.server.stats) account(this.server.stats, record, process.hrtime.bigint() - t0, true);
    this.deliver(reply);
    return true;
  }

  /** Writes a synchronous path's reply (or releases it when the connection is gone). */
  private deliver(reply: FastReply): void {
    if (this.socket.destroyed) reply.sent?.();
    else {
      this.server.beforeReply?.();
      if (reply.file) this.sendWithFile(reply.chunks, reply.file, reply.sent);
      else this.send(reply.chunks, reply.sent);
    }
    reply.after?.();
  }

  /**
   * Writes a reply whose body comes from a file: straight to the socket (send + sendfile)
   * when its stream holds nothing (else bytes would reorder), and whatever the kernel did
   * not take through the stream, in order: the head's rest, the body read into memory, the pad.
   */
  private sendWithFile(chunks: Buffer[], file: FileBody, done: (() => void) | undefined): void {
    const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    let headSent = 0;
    let bodySent = 0;
    const fd = this.directFd();
    if (fd !== undefined) {
      const h = sendHead(fd, head);
      if (h === 'failed') return this.broken(done);
      headSent = h;
      if (headSent === head.length && file.length > 0) {
        const b = sendFileRange(fd, file.fd, file.offset, file.length);
        if (b === 'failed') return this.broken(done);
        bodySent = b;
      }
    }
    const rest: Buffer[] = [];
    const releases: (() => void)[] = [];
    if (headSent < head.length) rest.push(headSent ? head.subarray(headSent) : head);
    if (bodySent < file.length) {
      let got: { data: Buffer; release?: () => void };
      try {
        got = file.read(file.offset + bodySent, file.length - bodySent);
      } catch {
        return this.broken(done);
      }
      if (got.release) releases.push(got.release);
      // The file shrank after the head promised its length: the record cannot be finished.
      if (got.data.length < file.length - bodySent) return this.broken(() => runAll([...releases, ...(done ? [done] : [])]));
      rest.push(got.data);
    }
    if (file.pad) rest.push(PAD.subarray(0, file.pad));
    if (done) releases.push(done);
    if (rest.length === 0) runAll(releases);
    else this.send(rest, releases.length ? (): void => runAll(releases) : undefined);
  }

  /**
   * The socket's descriptor when bytes may be written to it directly now: Linux, and nothing
   * waiting in its stream (replies corked earlier in this batch are flushed first).
   */
  private directFd(): number | undefined {
    if (!canSendDirect()) return undefined;
    const s = this.socket;
    if (s.writableLength > 0 && s.writableCorked > 0) {
      const corks = s.writableCorked;
      for (let i = 0; i < corks; i++) s.uncork();
      for (let i = 0; i < corks; i++) s.cork();
    }
    if (s.writableLength > 0) return undefined;
    const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
    return typeof fd === 'number' && fd >= 0 ? fd : undefined;
  }

  /** A direct write failed or a record cannot be finished: the connection ends (clients retry on a new one). */
  private broken(done: (() => void) | undefined): void {
    done?.();
    this.socket.destroy();
  }

  /** Writes one reply's chunks as one writev; `done` runs once they are handed to the kernel. */
  private send(chunks: Buffer[], done: (() => void) | undefined): void {
    if (chunks.length === 1) {
      // A reply on its own (not corked with others of its batch) goes straight to the socket
      // when its stream holds nothing; what the kernel does not take goes through the stream.
      const fd = this.socket.writableCorked === 0 ? this.directFd() : undefined;
      if (fd !== undefined) {
        const head = chunks[0]!;
        const n = sendHead(fd, head, false);
        if (n === 'failed') return this.broken(done);
        if (n === head.length) return done?.();
        this.socket.write(n ? head.subarray(n) : head, done);
        return;
      }
      this.socket.write(chunks[0]!, done);
      return;
    }
    this.socket.cork();
    for (let i = 0; i < chunks.length; i++) this.socket.write(chunks[i]!, i === chunks.length - 1 ? done : undefined);
    this.socket.uncork();
  }

  private pump(): void {
    while (this.inFlight < this.server.limits.maxInFlight && this.queue.length > 0 && !this.socket.destroyed) {
      const record = this.queue.shift()!;
      this.inFlight++;
      void this.run(record);
    }
    if (!this.paused && (this.queue.length >= MAX_QUEUED || this.socket.writableLength > MAX_UNSENT)) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    if (this.paused && this.queue.length < MAX_QUEUED / 2 && this.socket.writableLength <= MAX_UNSENT) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private async run(record: Buffer): Promise<void> {
    const t0 = this.server.stats ? process.hrtime.bigint() : 0n;
    try {
      const reply = await this.server.handle(record, this.remote, this.abort.signal, this.creds);
      if (this.server.stats) account(this.server.stats, record, process.hrtime.bigint() - t0, false);
      if (!reply || this.socket.destroyed) {
        if (reply) runAll(reply.sent);
        this.socket.destroy();
        return;
      }
      this.server.beforeReply?.();
      this.send(reply.chunks, reply.sent.length ? (): void => runAll(reply.sent) : undefined);
    } catch (err) {
      this.server.report(err instanceof Error ? err : new Error(String(err)), this.remote);
      this.socket.destroy();
    } finally {
      this.inFlight--;
      this.pump();
      this.maybeResume();
    }
  }
}

/** Counts one call in the stats (prog and proc read from the record, when it holds them). */
function account(stats: RpcStats, record: Buffer, ns: bigint, fast: boolean): void {
  if (record.length >= 24) stats.add(record.readUInt32BE(12), record.readUInt32BE(20), ns, fast);
}

/** XDR padding bytes. */
const PAD = Buffer.alloc(4);

/** Runs callbacks, none of which may stop the others. */
export function runAll(fns: (() => void)[]): void {
  for (const fn of fns) {
    try {
      fn();
    } catch {
      // a release hook failing must not break the connection
    }
  }
}
