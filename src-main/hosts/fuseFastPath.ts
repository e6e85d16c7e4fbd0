import type { FastAnswers } from './fuseOps.ts';

// Requests answered from memory without fuse-native's per-request JavaScript. Every FUSE
// request crosses the event loop (PERF.md); fuse-native then binds a signal, copies its
// arguments twice, allocates an 18-word stat array and answers on the next tick. `ls -l`
// of 5,000 entries is 5,000 lookups (libfuse 2 has no READDIRPLUS) and 10,000 getxattr
// calls (security.selinux, system.posix_acl_access; 2 once it answers EOPNOTSUPP) after one listing: here a lookup whose
// attributes the metadata cache holds, and a getxattr of a name no guest holds, are
// answered in the dispatch itself, with one reused stat array. Anything else goes the
// usual way.

/** fuse-native's registered handler: the thread's locals buffer, the opcode, then the request's arguments. */
type Handler = (locals: Buffer, op: number, ...args: unknown[]) => unknown;

/** The part of fuse-native's addon the fast path calls. */
export interface FastBinding {
  op_getattr: number;
  op_getxattr: number;
  fuse_native_signal_getattr(locals: Buffer, res: number, stat: Uint32Array): void;
  fuse_native_signal_getxattr(locals: Buffer, res: number, value: ArrayBuffer): void;
}

/**
 * The answer for a name no guest holds: EOPNOTSUPP on Linux (95: the namespace is not
 * supported, as the kernel says for a name no handler takes; GNU ls -l asks every file for
 * security.selinux and system.posix_acl_access and stops asking a device that said so,
 * issue 11), ENOATTR (93, "no such attribute") on macOS, where Finder expects it.
 */
const NO_ATTR = process.platform === 'darwin' ? -93 : -95;

/** Wraps fuse-native's getattr and getxattr handlers (in place) with the answers known in memory. */
export function installFastPath(handlers: unknown[], binding: FastBinding, fast: FastAnswers): void {
  // Filled and read back within one synchronous signal call, so one array serves every request.
  const stat = new Uint32Array(18);
  const getattr = handlers[binding.op_getattr] as Handler | undefined;
  if (typeof getattr === 'function') {
    handlers[binding.op_getattr] = (locals: Buffer, op: number, path: string): unknown => {
      if (fast.stat(path, stat)) return binding.fuse_native_signal_getattr(locals, 0, stat);
      return getattr(locals, op, path);
    };
  }
  const getxattr = handlers[binding.op_getxattr] as Handler | undefined;
  if (typeof getxattr === 'function') {
    handlers[binding.op_getxattr] = (locals: Buffer, op: number, path: string, name: string, value: Buffer, position: number): unknown => {
      // The value buffer is libfuse's memory: the signal detaches it, as fuse-native does.
      if (fast.noXattr(name)) return binding.fuse_native_signal_getxattr(locals, NO_ATTR, value.buffer as ArrayBuffer);
      return getxattr(locals, op, path, name, value, position);
    };
  }
}
