// A raw ONC RPC connection for tests that hand-build calls, well-formed or not, and read the
// replies by xid: the NFS host's robustness and synchronous-path tests send records no client
// library would (truncated, foreign handles, several in one write) and check each reply.

import { connect, type Socket } from 'node:net';
import { encodeAuthSys } from '../../src-main/nfs/rpc/messages.ts';
import { RecordDecoder } from '../../src-main/nfs/rpc/RecordDecoder.ts';
import { XdrReader } from '../../src-main/nfs/xdr/XdrReader.ts';
import { XdrWriter } from '../../src-main/nfs/xdr/XdrWriter.ts';

/** How a call authenticates: AUTH_SYS as a user (the default: this process's), or a bare flavor with an empty body. */
export type RawCred = { uid: number; gid: number } | { flavor: number };

/** This process's own AUTH_SYS identity. */
const self = (): RawCred => ({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });

/**
 * Each identity's AUTH_SYS credential, encoded once: its stamp must not change between calls,
 * as real clients send it (the NFS host decodes a connection's credentials once and answers
 * at once only calls that carry the same bytes; a stamp ticking each second sent calls down
 * the async path now and then).
 */
const authSysBodies = new Map<string, Buffer>();

function authSys(cred: { uid: number; gid: number }): Buffer {
  const key = `${cred.uid}:${cred.gid}`;
  let body = authSysBodies.get(key);
  if (!body) {
    const w = new XdrWriter();
    encodeAuthSys(w, cred);
    body = w.toBuffer();
    authSysBodies.set(key, body);
  }
  return body;
}

/** Encodes a call message (RFC 5531 §9) without its record mark. */
export function callBody(
  xid: number,
  prog: number,
  vers: number,
  proc: number,
  args: (w: XdrWriter) => void = () => {},
  opts: { rpcvers?: number; cred?: RawCred } = {},
): Buffer {
  const w = new XdrWriter();
  w.uint32(xid).uint32(0).uint32(opts.rpcvers ?? 2).uint32(prog).uint32(vers).uint32(proc);
  const cred = opts.cred ?? self();
  if ('flavor' in cred) w.uint32(cred.flavor).uint32(0);
  else w.fixedOpaque(authSys(cred));
  w.uint32(0).uint32(0); // AUTH_NONE verifier
  args(w);
  return w.toBuffer();
}

/** Reads a reply (after its xid) up to accept_stat: the stat, or 'denied' for MSG_DENIED. */
export function acceptStat(r: XdrReader): number | 'denied' {
  r.uint32(); // REPLY
  if (r.uint32() !== 0) return 'denied';
  r.uint32();
  r.opaque(400); // verifier
  return r.uint32();
}

/** One TCP connection to an RPC server; replies are kept by xid, in the order they came. */
export class RawRpc {
  readonly socket: Socket;
  /** Each reply, positioned after its xid. */
  readonly replies = new Map<number, XdrReader>();
  /** The xids of the replies, in the order they arrived. */
  readonly order: number[] = [];
  closed = false;
  private readonly waiters = new Map<number, () => void>();
  private readonly closeWaiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    const dec = new RecordDecoder(64 << 20);
    this.socket.on('data', (c: Buffer) => {
      for (const r of dec.push(c)) {
        const xid = r.readUInt32BE(0);
        this.replies.set(xid, new XdrReader(r.subarray(4)));
        this.order.push(xid);
        this.waiters.get(xid)?.();
      }
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      for (const w of [...this.waiters.values(), ...this.closeWaiters]) w();
    });
  }

  /** Resolves once connected. */
  ready(): Promise<void> {
    return new Promise((r) => this.socket.once('connect', () => r()));
  }

  /** Sends call bodies, each with its record mark, in one write (so the server reads them together). */
  send(...bodies: Buffer[]): void {
    const out: Buffer[] = [];
    for (const body of bodies) {
      const mark = Buffer.alloc(4);
      mark.writeUInt32BE((0x8000_0000 | body.length) >>> 0);
      out.push(mark, body);
    }
    this.socket.write(Buffer.concat(out));
  }

  /** The reply to xid (after its xid), or undefined when the connection closes first. */
  reply(xid: number, ms = 20_000): Promise<XdrReader | undefined> {
    if (this.replies.has(xid)) return Promise.resolve(this.replies.get(xid));
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no reply to xid ${xid} and no close within ${ms} ms`)), ms);
      this.waiters.set(xid, () => {
        clearTimeout(t);
        this.waiters.delete(xid);
        resolve(this.replies.get(xid));
      });
    });
  }

  /** The reply to xid, accepted, positioned after accept_stat, which is returned beside it. */
  async accepted(xid: number): Promise<{ stat: number; r: XdrReader }> {
    const r = await this.reply(xid);
    if (!r) throw new Error(`the connection closed before the reply to xid ${xid}`);
    const stat = acceptStat(r);
    if (stat === 'denied') throw new Error(`the call with xid ${xid} was denied`);
    return { stat, r };
  }

  /** Resolves true once the server closed the connection, false after `ms`. */
  whenClosed(ms = 10_000): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** Drops the connection. */
  close(): void {
    this.socket.destroy();
  }
}
