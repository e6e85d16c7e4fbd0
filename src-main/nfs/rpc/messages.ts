import { XdrError } from '../xdr/XdrError.ts';
import { XdrReader } from '../xdr/XdrReader.ts';
import { XdrWriter } from '../xdr/XdrWriter.ts';

// ONC RPC v2 message headers, RFC 5531 §9 (rpc_msg) and §8.2 / §14 (AUTH_NONE, AUTH_SYS).

/** msg_type, §9. */
export const CALL = 0;
/** msg_type, §9. */
export const REPLY = 1;
/** reply_stat, §9. */
export const MSG_ACCEPTED = 0;
/** reply_stat, §9. */
export const MSG_DENIED = 1;

/** accept_stat values, §9. */
export const AcceptStat = {
  SUCCESS: 0,
  PROG_UNAVAIL: 1,
  PROG_MISMATCH: 2,
  PROC_UNAVAIL: 3,
  GARBAGE_ARGS: 4,
  SYSTEM_ERR: 5,
} as const;
/** One accept_stat. */
export type AcceptStat = (typeof AcceptStat)[keyof typeof AcceptStat];

/** reject_stat values, §9. */
export const RejectStat = { RPC_MISMATCH: 0, AUTH_ERROR: 1 } as const;
/** auth_stat values used here, §9. */
export const AuthStat = { AUTH_BADCRED: 1, AUTH_REJECTEDCRED: 2, AUTH_TOOWEAK: 5 } as const;

/** auth_flavor values, §8.2. */
export const AUTH_NONE = 0;
/** auth_flavor AUTH_SYS (AUTH_UNIX), §8.2 and Appendix A. */
export const AUTH_SYS = 1;

/** Credentials of a call: AUTH_SYS fields when the flavor is AUTH_SYS. */
export interface Credentials {
  flavor: number;
  uid?: number;
  gid?: number;
  gids?: number[];
  machine?: string;
}

/** A decoded call header; the reader is positioned at the procedure's arguments. */
export interface CallHeader {
  xid: number;
  rpcvers: number;
  prog: number;
  vers: number;
  proc: number;
  cred: Credentials;
}

/** opaque_auth body bound, §8.2. */
const MAX_AUTH_BYTES = 400;

/**
 * The credentials last decoded on one connection, with their raw bytes: a client sends
 * the same AUTH_SYS body with every call, so it is decoded once (and the decoded object
 * is the same from call to call, which lets later stages cache by it).
 */
export interface CredCache {
  flavor: number;
  body: Buffer;
  cred: Credentials;
}

/** Decodes the call part of an rpc_msg after the xid and msg_type (§9 call_body). */
export function decodeCallBody(xid: number, r: XdrReader, cache?: { last?: CredCache }): CallHeader {
  const rpcvers = r.uint32();
  const prog = r.uint32();
  const vers = r.uint32();
  const proc = r.uint32();
  const flavor = r.uint32();
  const body = r.opaque(MAX_AUTH_BYTES);
  const last = cache?.last;
  let cred: Credentials;
  if (last && last.flavor === flavor && last.body.equals(body)) cred = last.cred;
  else {
    cred = { flavor };
    if (flavor === AUTH_SYS) Object.assign(cred, decodeAuthSys(body));
    if (cache) cache.last = { flavor, body: Buffer.from(body), cred };
  }
  // Verifier: read and ignore; AUTH_NONE and AUTH_SYS both send an empty one.
  r.uint32();
  r.opaque(MAX_AUTH_BYTES);
  return { xid, rpcvers, prog, vers, proc, cred };
}

/** authsys_parms, RFC 5531 Appendix A: stamp, machinename<255>, uid, gid, gids<16>. */
export function decodeAuthSys(body: Buffer): Omit<Credentials, 'flavor'> {
  const r = new XdrReader(body);
  r.uint32(); // stamp
  const machine = r.string(255);
  const uid = r.uint32();
  const gid = r.uint32();
  const n = r.count(16);
  const gids: number[] = [];
  for (let i = 0; i < n; i++) gids.push(r.uint32());
  return { uid, gid, gids, machine };
}

/** Encodes an AUTH_SYS credential body. */
export function encodeAuthSys(w: XdrWriter, c: { uid: number; gid: number; gids?: number[]; machine?: string }): void {
  const body = new XdrWriter(64);
  body.uint32(Math.floor(Date.now() / 1000));
  body.string((c.machine ?? 'berth').slice(0, 255));
  body.uint32(c.uid).uint32(c.gid);
  const gids = (c.gids ?? []).slice(0, 16);
  body.uint32(gids.length);
  for (const g of gids) body.uint32(g);
  w.uint32(AUTH_SYS).opaque(body.toBuffer());
}

/** Writes an accepted reply header with an AUTH_NONE verifier (§9 accepted_reply). */
export function writeAcceptedHeader(w: XdrWriter, xid: number, stat: AcceptStat): void {
  w.uint32(xid).uint32(REPLY).uint32(MSG_ACCEPTED).uint32(AUTH_NONE).uint32(0).uint32(stat);
}

/** Writes a PROG_MISMATCH reply with the supported version range. */
export function writeProgMismatch(w: XdrWriter, xid: number, low: number, high: number): void {
  writeAcceptedHeader(w, xid, AcceptStat.PROG_MISMATCH);
  w.uint32(low).uint32(high);
}

/** Writes a denied reply: RPC_MISMATCH (we speak version 2 only) or AUTH_ERROR. */
export function writeDenied(w: XdrWriter, xid: number, reject: { rpcMismatch: true } | { authStat: number }): void {
  w.uint32(xid).uint32(REPLY).uint32(MSG_DENIED);
  if ('rpcMismatch' in reject) w.uint32(RejectStat.RPC_MISMATCH).uint32(2).uint32(2);
  else w.uint32(RejectStat.AUTH_ERROR).uint32(reject.authStat);
}

/** A decoded reply header; for SUCCESS the reader is positioned at the results. */
export type ReplyHeader =
  | { xid: number; accepted: true; stat: AcceptStat; mismatch?: { low: number; high: number } }
  | { xid: number; accepted: false; reject: number; detail: number };

/** Decodes a reply after xid and msg_type (§9 reply_body). */
export function decodeReplyBody(xid: number, r: XdrReader): ReplyHeader {
  const replyStat = r.uint32();
  if (replyStat === MSG_ACCEPTED) {
    r.uint32();
    r.opaque(MAX_AUTH_BYTES);
    const stat = r.uint32();
    if (stat > 5) throw new XdrError(`unknown accept_stat ${stat}`);
    if (stat === AcceptStat.PROG_MISMATCH) return { xid, accepted: true, stat, mismatch: { low: r.uint32(), high: r.uint32() } };
    return { xid, accepted: true, stat: stat as AcceptStat };
  }
  if (replyStat === MSG_DENIED) {
    const reject = r.uint32();
    const detail = r.uint32();
    return { xid, accepted: false, reject, detail };
  }
  throw new XdrError(`unknown reply_stat ${replyStat}`);
}

/** Writes a call header (§9 call_body) with the given credentials and an AUTH_NONE verifier. */
export function writeCallHeader(
  w: XdrWriter,
  xid: number,
  prog: number,
  vers: number,
  proc: number,
  cred?: { uid: number; gid: number; gids?: number[]; machine?: string },
): void {
  w.uint32(xid).uint32(CALL).uint32(2).uint32(prog).uint32(vers).uint32(proc);
  if (cred) encodeAuthSys(w, cred);
  else w.uint32(AUTH_NONE).uint32(0);
  w.uint32(AUTH_NONE).uint32(0);
}
