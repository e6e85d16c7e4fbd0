import type { Caller } from '../../vfs/types.ts';
import { AUTH_NONE, AUTH_SYS, AuthStat, type Credentials } from '../rpc/messages.ts';
import { RpcAuthError } from '../rpc/RpcAuthError.ts';

// Who an NFS call acts as (issue 9: the server used to ignore AUTH_SYS, so any local
// account reached the whole export with the server's rights). The rules, like ganesha's:
// - AUTH_SYS gives uid, gid and up to 16 groups; procedures check modes against them
//   (vfs/permissions.ts) and the guest creates nodes owned by them (when root).
// - AUTH_NONE is refused on a writable export, and is "nobody" on a read-only one.
// - root (uid 0) is squashed to nobody unless root squash is off.
// - optionally, calls must come from a reserved port (< 1024: only root can bind one).
// - a server not running as root can only act as its own user, so it refuses every
//   other uid unless the user allowed it.

/** The anonymous user calls are squashed to (nobody/nogroup). */
export const ANON_ID = 65534;

/** How an NFS server decides who a call is. */
export interface NfsAuthPolicy {
  /** Whether the export takes writes (AUTH_NONE is refused then). */
  writable: boolean;
  /** Map uid 0 to nobody (default true). */
  rootSquash: boolean;
  /** Accept calls only from source ports below 1024. */
  reservedPort: boolean;
  /** The uid the server runs as; undefined where unknown (then treated as root). */
  serverUid: number | undefined;
  /** Uids besides the server's own that a non-root server serves. */
  allowUids: readonly number[];
}

/** The source port of "address:port" (IPv6 addresses hold colons too). */
function portOf(remote: string): number {
  return Number(remote.slice(remote.lastIndexOf(':') + 1));
}

/** The caller of one call, or an RpcAuthError saying why its credentials are refused. */
export function callerOf(policy: NfsAuthPolicy, cred: Credentials, remote: string): Caller {
  if (policy.reservedPort && !(portOf(remote) < 1024)) {
    throw new RpcAuthError(AuthStat.AUTH_TOOWEAK, `NFS call from ${remote} refused: the export requires a reserved source port (below 1024)`);
  }
  let caller: Caller;
  if (cred.flavor === AUTH_SYS && cred.uid !== undefined && cred.gid !== undefined) {
    caller = { uid: cred.uid, gid: cred.gid, groups: cred.gids ?? [] };
  } else if (cred.flavor === AUTH_NONE && !policy.writable) {
    caller = { uid: ANON_ID, gid: ANON_ID, groups: [] };
  } else {
    throw new RpcAuthError(AuthStat.AUTH_TOOWEAK, `NFS call from ${remote} refused: a writable export needs AUTH_SYS credentials`);
  }
  if (caller.uid === 0 && policy.rootSquash) caller = { uid: ANON_ID, gid: ANON_ID, groups: [] };
  const server = policy.serverUid;
  if (server !== undefined && server !== 0 && caller.uid !== server && !policy.allowUids.includes(caller.uid)) {
    throw new RpcAuthError(
      AuthStat.AUTH_TOOWEAK,
      `NFS call from ${remote} as uid ${caller.uid} refused: this server runs as uid ${server} and cannot act as another user (allow it with --nfs-allow-uid ${caller.uid})`,
    );
  }
  return caller;
}
