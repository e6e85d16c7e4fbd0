import { execFile } from 'node:child_process';

// Shell commands as a user would type them, for tests that drive mounts with the usual tools
// (ls, cat, getfattr, cp): bash, its exit code and output whatever they are, never a throw.

/** What a command did: its exit code (1 when it could not run or was killed), output and wall time. */
export interface ShResult {
  code: number;
  out: string;
  err: string;
  ms: number;
}

/** Runs `cmd` with bash -c; killed after `timeoutMs` (0: never). */
export function sh(cmd: string, timeoutMs = 120_000): Promise<ShResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile('bash', ['-c', cmd], { maxBuffer: 256 << 20, timeout: timeoutMs }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err, ms: Date.now() - t0 }),
    );
  });
}

/** `s` quoted for the shell (single quotes). */
export const q = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * `ls -ln` of `dir` as a user runs it: its result (the exit code is ls's, not awk's), and
 * each entry as name -> "type|size", the type as ls shows it (`d`, `-`, `l`…).
 */
export async function lsLn(dir: string): Promise<{ r: ShResult; entries: Map<string, string> }> {
  const r = await sh(`ls -ln ${q(dir)} | awk 'NR > 1 { print $9 "|" substr($1, 1, 1) "|" $5 }'; exit \${PIPESTATUS[0]}`);
  const lines = r.out.trim() ? r.out.trim().split('\n') : [];
  return { r, entries: new Map(lines.map((l) => [l.split('|')[0]!, l.split('|').slice(1).join('|')] as const)) };
}
