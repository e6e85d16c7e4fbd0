import { runCommand } from '../sys/runCommand.ts';

// Looks at a mount point from a child process (stat(1), find(1), started by the helper of
// sys/runCommand.ts), never through node:fs.
// A process that serves FUSE mounts must not make a blocking fs call on a path inside one
// of them: fs calls run on libuv's threadpool, and answering the kernel's request needs
// that pool too (a local guest's lstat), so a few such calls at once park every pool
// thread on requests only a pool thread could answer (issue 3: a daemon restoring 50
// mounts hung forever). Spawning uses no pool thread, and a child stuck on a hung mount
// is killed at its deadline instead of holding a thread forever.

/** What a probe saw: its output, an errno-like code, or no answer within the deadline. */
export type ProbeResult = { ok: true; stdout: string } | { ok: false; code: string; message: string } | { ok: false; code: 'HUNG'; message: string };

/** stderr texts of coreutils/findutils (LC_ALL=C) → the errno the call got. */
const ERRNO_TEXT: [RegExp, string][] = [
  [/No such file or directory/, 'ENOENT'],
  [/Transport endpoint is not connected/, 'ENOTCONN'],
  [/Software caused connection abort/, 'ECONNABORTED'],
  [/Not a directory/, 'ENOTDIR'],
  [/Permission denied/, 'EACCES'],
  [/Operation not permitted/, 'EPERM'],
];

/** Runs one probe command with a deadline (sys/runCommand.ts, LC_ALL=C); SIGKILL when it hangs (a FUSE wait is killable). */
async function probe(cmd: string, args: string[], timeoutMs: number): Promise<ProbeResult> {
  const r = await runCommand(cmd, args, { timeoutMs, killSignal: 'SIGKILL' });
  if (r.timedOut) return { ok: false, code: 'HUNG', message: `${cmd} got no answer within ${timeoutMs} ms` };
  if (r.code === 0) return { ok: true, stdout: r.stdout };
  const text = r.stderr.trim() || `${cmd} exited with status ${r.code}`;
  const code = ERRNO_TEXT.find(([re]) => re.test(text))?.[1] ?? 'EIO';
  return { ok: false, code, message: text };
}

/** The device number and file type of `path` (following symlinks, like fs.stat). */
export async function statInChild(path: string, timeoutMs: number): Promise<{ ok: true; dev: number; isDir: boolean } | Extract<ProbeResult, { ok: false }>> {
  const r = await probe('stat', ['-L', '-c', '%d %F', '--', path], timeoutMs);
  if (!r.ok) return r;
  const line = r.stdout.trim();
  const space = line.indexOf(' ');
  return { ok: true, dev: Number(line.slice(0, space)), isDir: line.slice(space + 1) === 'directory' };
}

/**
 * Opens the folder and reads until its first entry: whether it is empty, and (unlike a
 * stat, which the kernel may answer from its cache) proof that its FUSE process answers.
 */
export async function firstEntryInChild(dir: string, timeoutMs: number): Promise<{ ok: true; empty: boolean } | Extract<ProbeResult, { ok: false }>> {
  // find needs a path it cannot read as an option: every caller passes an absolute one.
  if (!dir.startsWith('/')) throw new Error(`firstEntryInChild: expected an absolute path, got ${JSON.stringify(dir)}`);
  const r = await probe('find', [dir, '-mindepth', '1', '-maxdepth', '1', '-print', '-quit'], timeoutMs);
  if (!r.ok) return r;
  return { ok: true, empty: r.stdout.length === 0 };
}
