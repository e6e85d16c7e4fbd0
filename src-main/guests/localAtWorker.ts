import { Worker } from 'node:worker_threads';
import { osArgs } from '../sys/byteNames.ts';
import { type Answer, bindOps, type CallName, errnoError, koffiPath, type Ops, PLATFORM } from './localLibc.ts';
import { HAS_PROC_FD } from './localDirs.ts';
import type { DirRef, LocalPaths } from './localPaths.ts';
import { xattrPath } from './localXattrs.ts';

// The openat walk's calls that must not block the JavaScript thread (a folder that is not
// on a local disk, or holds a mount this process serves: localInline.ts) run here, in one
// worker thread shared by every local guest of the process. It runs the very binder the
// main thread uses (bindOps' source), so errno is read on the thread that made the call;
// koffi's own async calls run on a pool thread and lose errno. Descriptors are the
// process's, so a descriptor opened here is used by the main thread and back.

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const __name = (f) => f;
const koffi = require(workerData.koffi);
const ops = (${bindOps.toString()})(koffi, workerData.platform);
parentPort.on('message', (m) => {
  let r, error;
  try { r = ops[m.op](...m.args); } catch (e) { error = String(e && e.message || e); }
  parentPort.postMessage({ id: m.id, r, error });
});`;

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

let worker: Worker | undefined;
const pending = new Map<number, Pending>();
let nextId = 1;

function start(): Worker {
  const w = new Worker(SOURCE, { eval: true, workerData: { koffi: koffiPath(), platform: PLATFORM } });
  w.unref();
  w.on('message', (m: { id: number; r: unknown; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) w.unref();
    if (m.error !== undefined) p.reject(new Error(`local guest worker: ${m.error}`));
    else p.resolve(m.r);
  });
  const fail = (err: Error): void => {
    if (worker === w) worker = undefined;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`local guest worker exited (${code})`)));
  return w;
}

/**
 * A *at call that must succeed: on this thread when `inline` (`ops` being this thread's
 * binding), else in the worker; its errno thrown as Node's fs would (code, syscall).
 */
export async function callAt(ops: Ops, inline: boolean, name: CallName, args: unknown[], outSize = 0): Promise<Answer> {
  const r = inline ? ops.call(name, args, outSize) : await inWorker('call', name, args, outSize);
  if (r[0] < 0) throw errnoError(r[1], name);
  return r;
}

/**
 * The calls on folder descriptors both strategies make alike, where `ops` has them:
 * renameat2 (LocalPaths.rename2), and the l*xattr calls by the descriptor's /proc link
 * (LocalPaths.xattr); each on this thread when its folders are inline, else in the worker.
 */
export function folderCalls<D extends DirRef & { readonly fd: number }>(ops: Ops): Pick<LocalPaths<D>, 'rename2' | 'xattr'> {
  const calls: Pick<LocalPaths<D>, 'rename2' | 'xattr'> = {};
  if (ops.has('renameat2')) {
    calls.rename2 = async (from, fromName, to, toName, flags) => void (await callAt(ops, from.inline && to.inline, 'renameat2', [from.fd, fromName, to.fd, toName, flags]));
  }
  if (ops.has('lgetxattr') && HAS_PROC_FD) calls.xattr = (d, name, call, args, outSize) => callAt(ops, d.inline, call, [xattrPath(d.fd, name), ...args], outSize);
  return calls;
}

/** Runs one op of bindOps in the worker. */
export function inWorker<K extends keyof Ops>(op: K, ...args: Parameters<Ops[K]>): Promise<ReturnType<Ops[K]>> {
  // Names that carry bytes which are not UTF-8 go as those bytes, as libc() sends them (withRawNames).
  if (op === 'call' || op === 'walk') args[1] = osArgs(args[1] as unknown[]) as never;
  worker ??= start();
  const w = worker;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    w.ref();
    w.postMessage({ id, op, args });
  });
}
