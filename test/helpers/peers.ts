import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isFuseType, parseMountInfo } from '../../src-main/hosts/mountInfo.ts';

/**
 * Decides whether a test that needs a real peer can run. Outside CI a missing peer
 * skips the test with a printed reason; under CI=true it is a failure, never a skip.
 * Returns the reason it cannot run, or undefined when it can.
 */
export function missingPeer(name: string, check: () => boolean, why: string): string | undefined {
  let ok = false;
  try {
    ok = check();
  } catch {
    ok = false;
  }
  if (ok) return undefined;
  const reason = `${name} is not available: ${why}`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${reason}`);
  console.warn(`skipping: ${reason}`);
  return reason;
}

/** True when `cmd` is on PATH. */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Reason FUSE tests cannot run here, or undefined. */
export function missingFuse(): string | undefined {
  return missingPeer(
    'FUSE',
    () => existsSync('/dev/fuse') && hasCommand('fusermount') && process.getuid?.() === 0,
    'needs /dev/fuse, fusermount (apt-get install fuse3 libfuse2) and root',
  );
}

/** Mount points of FUSE file systems currently in /proc/self/mountinfo (Berth's own parser). */
export function fuseMounts(): string[] {
  // Read here, not with cat: a test process may serve FUSE mounts, and a child of its own
  // exiting while a session ends can hang it (src-main/sys/runCommand.ts).
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .filter((m) => isFuseType(m.fstype))
    .map((m) => m.mountpoint);
}
