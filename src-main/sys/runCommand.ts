import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bytesOfName } from './byteNames.ts';

// Every command a FUSE-serving process runs (fusermount, the probes of probeInChild.ts)
// is started by one long-lived /bin/sh helper, so the commands are the helper's children
// and their exits send SIGCHLD to it, never to this process.
//
// Why (issue 8, the daemon's shutdown hang): libfuse 2 ends a session by pthread_cancel()
// on its worker threads, which block in read(/dev/fuse) with SIGCHLD unblocked. A SIGCHLD
// that lands on such a worker while glibc handles its cancellation runs libuv's signal
// handler inside glibc's cancel handler; libuv takes its process-wide signal lock (a byte
// read from a pipe) and glibc then parks the thread for good (it waits for a cancellation
// that is already under way on its own stack). The byte never comes back, so the next
// SIGCHLD handler on any thread (the main one included) blocks forever in read(): no
// child is reaped, no callback runs. Unmounting 50 mounts means 50 sessions ending while
// 50 fusermount children exit; about one shutdown in six hung. With no children of its
// own, the process gets no SIGCHLD while it serves FUSE.

/** How a command ended. */
export interface CommandResult {
  /** Exit status; 128 + n when signal n ended it (the shell's convention). */
  code: number;
  stdout: string;
  stderr: string;
  /** It was still running at its deadline and got the kill signal. */
  timedOut: boolean;
}

/** Options of one command. */
export interface CommandOptions {
  /** Kill it (with killSignal) after this long. */
  timeoutMs?: number;
  /** Default SIGTERM. */
  killSignal?: NodeJS.Signals;
}

// Reads one command per line: an id, then each argument escaped for printf %b (see
// encode()). Each command runs in its own background subshell, which reports "S id pid"
// when it started and "E id status" when it ended; output goes to files in the helper's
// folder. "A key mountid path" / "R key" keep a list of mounts to detach if this process
// dies with them still up (a crash, process.exit, SIGKILL): at EOF on its input the
// helper detaches each one that is still the same mount (by kernel mount id; a new
// daemon's mount at the same place has another), then removes its folder.
const HELPER = [
  'set -f',
  'D=$1',
  // Arguments arrive as "x" + printf %b escapes (encode()); $(...) would drop a trailing newline, hence the x after.
  'dec() { v=$(printf "%bx" "$1"); v=${v%x}; v=${v#x}; }',
  'while IFS= read -r line; do',
  '  set -- $line',
  '  case $1 in',
  '  A) printf "%s %s\\n" "$3" "$4" >"$D/$2.atexit" ;;',
  '  R) rm -f "$D/$2.atexit" ;;',
  '  *)',
  '    id=$1; shift; n=$#',
  '    while [ "$n" -gt 0 ]; do dec "$1"; shift; set -- "$@" "$v"; n=$((n-1)); done',
  '    (',
  '      "$@" >"$D/$id.out" 2>"$D/$id.err" </dev/null &',
  '      echo "S $id $!"',
  '      wait "$!"',
  '      echo "E $id $?"',
  '    ) &',
  '    ;;',
  '  esac',
  'done',
  'set +f',
  'for f in "$D"/*.atexit; do',
  '  [ -e "$f" ] || continue',
  '  read -r mid enc <"$f"',
  '  dec "$enc"',
  '  if grep -q "^$mid " /proc/self/mountinfo 2>/dev/null; then fusermount -uz -- "$v" >/dev/null 2>&1 || umount -l -- "$v" >/dev/null 2>&1; fi',
  'done',
  'rm -rf "$D"',
].join('\n');

/**
 * "x" + printf %b escapes: every byte outside a small safe set as \0ooo, so one line holds
 * any argument; a name's bytes that are not UTF-8 (byteNames.ts) as those bytes.
 */
function encode(arg: string): string {
  if (arg.includes('\0')) throw new Error('a command argument cannot contain a NUL byte');
  let out = 'x';
  for (const b of bytesOfName(arg) ?? Buffer.from(arg, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_./=,:+@-]/.test(c) ? c : `\\0${b.toString(8).padStart(3, '0')}`;
  }
  return out;
}

interface Pending {
  pid?: number;
  deadlinePassed: boolean;
  killSignal: NodeJS.Signals;
  timer?: NodeJS.Timeout;
  resolve: (r: CommandResult) => void;
  reject: (err: Error) => void;
}

/** The helper of this process; owned by this module, started on first use. */
let helper: { child: ChildProcess; dir: string; pending: Map<number, Pending> } | undefined;
let nextId = 1;

function start(): NonNullable<typeof helper> {
  if (helper) return helper;
  const dir = mkdtempSync(join(tmpdir(), 'berth-run-'));
  const child = spawn('/bin/sh', ['-c', HELPER, 'berth-run', dir], {
    // Its own stderr would only carry the shell's job notices ("Killed").
    stdio: ['pipe', 'pipe', 'ignore'],
    // Its own process group: a Ctrl-C meant for this process must not kill the helper it
    // still needs to unmount; it ends when this process's end closes its input.
    detached: true,
    env: { ...process.env, LC_ALL: 'C' },
  });
  const pending = new Map<number, Pending>();
  const h = { child, dir, pending };
  helper = h;
  // It must not keep the event loop alive, nor be the reason this process waits at exit.
  child.unref();
  asSocket(child.stdin).unref?.();
  asSocket(child.stdout).unref?.();
  // A helper that died is reported through 'exit'; a write to it must not throw.
  child.stdin!.on('error', () => undefined);
  const fail = (why: string) => {
    if (helper === h) helper = undefined;
    for (const [, p] of pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`the command helper ${why}`));
    }
    pending.clear();
  };
  child.once('error', (err) => fail(`could not start: ${err.message}`));
  child.once('exit', (code, sig) => fail(`exited (${sig ?? `code ${String(code)}`})`));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [kind, idText, value] = line.split(' ');
    const id = Number(idText);
    const p = pending.get(id);
    if (!p) return;
    if (kind === 'S') {
      p.pid = Number(value);
      if (p.deadlinePassed) kill(p);
    } else if (kind === 'E') {
      pending.delete(id);
      if (pending.size === 0) asSocket(child.stdout).unref?.();
      clearTimeout(p.timer);
      void collect(dir, id).then(({ stdout, stderr }) => p.resolve({ code: Number(value), stdout, stderr, timedOut: p.deadlinePassed }));
    }
  });
  return h;
}

/** The net.Socket behind a child's stdio stream (ref/unref live there). */
function asSocket(stream: unknown): { ref?: () => void; unref?: () => void } {
  return (stream ?? {}) as { ref?: () => void; unref?: () => void };
}

function kill(p: Pending): void {
  if (p.pid === undefined) return;
  try {
    process.kill(p.pid, p.killSignal);
  } catch {
    // Already gone.
  }
}

async function collect(dir: string, id: number): Promise<{ stdout: string; stderr: string }> {
  const read = async (name: string) => {
    const text = await readFile(join(dir, name), 'utf8').catch(() => '');
    await unlink(join(dir, name)).catch(() => undefined);
    return text;
  };
  const [stdout, stderr] = await Promise.all([read(`${id}.out`), read(`${id}.err`)]);
  return { stdout, stderr };
}

/**
 * Starts the helper now if it is not running. Call it before the first FUSE mount: a
 * process started later inherits the mount's /dev/fuse descriptor (libfuse 2 opens it
 * without O_CLOEXEC), and the helper lives as long as this process.
 */
export function startCommandHelper(): void {
  start();
}

/**
 * Runs `cmd args` to completion through the helper (see the top of this file); resolves
 * with its status and output, whatever the status. LC_ALL=C, stdin /dev/null.
 */
export function runCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const h = start();
  const id = nextId++;
  return new Promise<CommandResult>((resolve, reject) => {
    const p: Pending = { deadlinePassed: false, killSignal: opts.killSignal ?? 'SIGTERM', resolve, reject };
    if (opts.timeoutMs !== undefined) {
      p.timer = setTimeout(() => {
        p.deadlinePassed = true;
        kill(p);
      }, opts.timeoutMs);
    }
    h.pending.set(id, p);
    // While a command runs, its answer must keep this process alive.
    asSocket(h.child.stdout).ref?.();
    h.child.stdin!.write(`${id} ${[cmd, ...args].map(encode).join(' ')}\n`);
  });
}

/**
 * Asks the helper to lazily detach `mountpoint` if this process ends (however: a crash,
 * process.exit, SIGKILL) while the mount with kernel mount id `mountId` is still there.
 * Returns the function that withdraws the request (call it once the mount is gone).
 */
export function detachIfProcessDies(mountpoint: string, mountId: number): () => void {
  const h = start();
  const key = nextId++;
  h.child.stdin!.write(`A ${key} ${mountId} ${encode(mountpoint)}\n`);
  return () => {
    if (helper === h) h.child.stdin!.write(`R ${key}\n`);
  };
}
