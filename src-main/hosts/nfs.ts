import { createHash } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';
import { MultiaddrError, parseMultiaddr } from '../../src-shared/multiaddr.ts';
import { FsError } from '../vfs/FsError.ts';
import type { Vfs } from '../vfs/types.ts';
import { RpcAuthError } from '../nfs/rpc/RpcAuthError.ts';
import { NfsServer } from '../nfs/server/NfsServer.ts';
import type { Host, MountedHost, MountEnd } from './types.ts';

// The NFS host: serves any guest as NFSv3 + MOUNT v3 on one TCP port (DESIGN.md "NFS").
// Loopback by default; any other address needs an explicit client allow-list, checked
// on every accepted connection.

/** Options of the NFS host (see NfsHostSchema in src-shared/mountSpec.ts). */
export interface NfsHostOptions {
  /** Refuse writes (NFS3ERR_ROFS) even when the guest could write. Default true. */
  readOnly?: boolean;
  /** Client addresses or CIDR ranges allowed besides loopback; required off loopback. */
  clients?: readonly string[];
  /** rtmax/wtmax; default 1 MiB. */
  maxIo?: number;
  /** Map uid 0 to nobody (default true). */
  rootSquash?: boolean;
  /** Accept calls only from source ports below 1024 (default false). */
  reservedPort?: boolean;
  /** Uids a server not running as root serves besides its own. */
  allowUids?: readonly number[];
  /** Told about refused clients and connection-level failures. */
  onError?: (err: Error, remote: string) => void;
  /** What is served, the same across restarts (NfsServerOptions.exportKey). */
  exportKey?: string;
  /**
   * Folder where an export on a fixed port leaves its handle table for its next run
   * (NfsServerOptions.handlesFile), one file per export and address.
   */
  handlesDir?: string;
}

/**
 * The file an export leaves its handles in for its next run. Only on a fixed port: a
 * client of an export on port 0 cannot find it again after a restart.
 */
function handlesFile(dir: string, exportKey: string, listen: string): string {
  return join(dir, `${createHash('sha256').update(`${exportKey}\0${listen}`).digest('hex').slice(0, 32)}.handles`);
}

/** True for 127.0.0.0/8 and ::1 (and their IPv4-mapped forms). */
export function isLoopback(address: string): boolean {
  const a = address.replace(/^::ffff:/i, '');
  return (isIPv4(a) && a.startsWith('127.')) || a === '::1';
}

/** Builds the allow-list: loopback plus each client address or CIDR range. */
export function clientAllowList(clients: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const c of clients) {
    const [addr = '', bits] = c.split('/');
    const type = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : undefined;
    if (!type) throw new FsError('InvalidItem', `bad NFS client ${JSON.stringify(c)}: expected an IP address or a CIDR range like 192.168.1.0/24`);
    if (bits === undefined) list.addAddress(addr, type);
    else {
      const prefix = Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv4' ? 32 : 128)) {
        throw new FsError('InvalidItem', `bad prefix length in NFS client ${JSON.stringify(c)}`);
      }
      list.addSubnet(addr, prefix, type);
    }
  }
  return (address) => {
    if (isLoopback(address)) return true;
    const v4 = address.replace(/^::ffff:/i, '');
    if (isIPv4(v4)) return list.check(v4, 'ipv4');
    return isIPv6(address) && list.check(address, 'ipv6');
  };
}

/** The commands and URL a user needs to mount an NFS host at `host:port`. */
export function mountCommands(host: string, port: number): Record<string, string> {
  const h = host.includes(':') ? `[${host}]` : host;
  return {
    port: String(port),
    linux: `mount -t nfs -o vers=3,proto=tcp,port=${port},mountport=${port},nolock ${h}:/ /mnt/x`,
    macos: `mount -t nfs -o vers=3,tcp,port=${port},mountport=${port},locallocks ${h}:/ /Volumes/x`,
    url: `nfs://${h}/?version=3&nfsport=${port}&mountport=${port}`,
  };
}

/** Without a reporter, refused credentials go to stderr (the daemon's log), once per distinct reason. */
function logRefusals(): (err: Error) => void {
  const said = new Set<string>();
  return (err) => {
    if (!(err instanceof RpcAuthError) || said.has(err.message) || said.size > 100) return;
    said.add(err.message);
    console.error(`berth nfs: ${err.message}`);
  };
}

/**
 * Who may use the export, in one line for the mount's info (shown at mount time): a server
 * not running as root can only act as itself, so other users are refused (issue 9).
 */
export function accessNote(serverUid: number | undefined, opts: NfsHostOptions): string {
  const writes = opts.readOnly ?? true ? 'read-only' : 'read-write (AUTH_SYS required)';
  const squash = opts.rootSquash ?? true ? 'root squashed to nobody' : 'root NOT squashed';
  const port = opts.reservedPort ? ', reserved source ports only' : '';
  if (serverUid === undefined || serverUid === 0) return `${writes}; permissions checked for each caller's uid/gid; ${squash}${port}`;
  const others = opts.allowUids?.length ? `uids ${[serverUid, ...opts.allowUids].join(', ')} (all act as uid ${serverUid})` : `only uid ${serverUid}; other users are refused (widen with --nfs-allow-uid)`;
  return `${writes}; this server runs as uid ${serverUid}: ${others}${port}`;
}

/** Serves a vfs over NFSv3 at a listen multiaddr (`/ip4/127.0.0.1/tcp/0` picks a free port). */
export const nfsHost: Host<NfsHostOptions> = {
  async mount(vfs: Vfs, listen: string, opts: NfsHostOptions): Promise<MountedHost> {
    let addr;
    try {
      addr = parseMultiaddr(listen);
    } catch (err) {
      throw new FsError('InvalidItem', err instanceof MultiaddrError ? err.message : String(err));
    }
    if (addr.kind !== 'tcp' || addr.family === 'dns' || addr.protocol !== 'http') {
      throw new FsError('InvalidItem', `cannot listen on ${listen}: expected /ip4/<address>/tcp/<port> or /ip6/<address>/tcp/<port>`);
    }
    const clients = opts.clients ?? [];
    if (!isLoopback(addr.host) && clients.length === 0) {
      throw new FsError(
        'Permission',
        `refusing to serve NFS on non-loopback ${listen} without an explicit client allow-list (clients: ["192.168.1.20", "10.0.0.0/8", ...])`,
      );
    }
    const serverUid = process.getuid?.();
    const server = new NfsServer(vfs, {
      readOnly: opts.readOnly ?? true,
      auth: { rootSquash: opts.rootSquash ?? true, reservedPort: opts.reservedPort ?? false, allowUids: opts.allowUids ?? [], serverUid },
      allow: clientAllowList(clients),
      ...(opts.maxIo ? { maxIo: opts.maxIo } : {}),
      ...(opts.exportKey !== undefined ? { exportKey: opts.exportKey } : {}),
      ...(opts.handlesDir && opts.exportKey !== undefined && addr.port !== 0 ? { handlesFile: handlesFile(opts.handlesDir, opts.exportKey, listen) } : {}),
      onError: opts.onError ?? logRefusals(),
    });
    let bound;
    try {
      bound = await server.listen(addr.port, addr.host);
    } catch (err) {
      await server.close().catch(() => {});
      const code = (err as NodeJS.ErrnoException).code;
      throw new FsError(code === 'EADDRINUSE' ? 'Exist' : 'IO', `cannot listen on ${listen}: ${(err as Error).message}`, { cause: err });
    }
    const family = addr.family;
    const target = `/${family}/${addr.host}/tcp/${bound.port}`;
    let resolve!: (end: MountEnd) => void;
    const done = new Promise<MountEnd>((r) => (resolve = r));
    let closing: Promise<string | undefined> | undefined;
    return {
      target,
      info: { ...mountCommands(addr.host, bound.port), listen: target, access: accessNote(serverUid, opts) },
      done,
      // Every level closes the server the same way: NFS clients hold no open files to wait for.
      unmount() {
        closing ??= server.close().then(
          () => (resolve({ reason: 'unmounted' }), undefined),
          (err: unknown) => (resolve({ reason: 'unmounted' }), `closing the NFS server: ${(err as Error).message}`),
        );
        return closing;
      },
    };
  },
};
