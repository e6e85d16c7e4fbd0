import type { ErrorInfo } from '../../src-shared/errors.ts';
import type { MountHealth } from '../../src-shared/mountState.ts';
import { FsError } from '../vfs/FsError.ts';
import type { HealthSource } from '../vfs/types.ts';
import type { AddOpts, AddResult, BlockOpts, CatOpts, IpfsKey, IpfsLsEntry, IpfsNode, IpfsRepoStat, IpfsStat, NodeCallOpts } from './IpfsNode.ts';
import { isUnreachable } from './kuboRpc.ts';
import type { MfsBackend } from './mfs/MfsBackend.ts';

// Issue 10 1b: a mount must say when its node is gone. One monitor per node address in
// the process (shared by every mount on it) probes the node while anything uses it and
// learns from every call: a call that got no HTTP answer marks the node unreachable, a
// probe that answers marks it back. While it is unreachable calls fail fast (one shared
// short probe, then IO with the address, the error and the fix) instead of each waiting
// out its deadline, and the
// mount table shows "mounted · node unreachable" from MountStatus.health.

/** Probe interval while the node answers. */
const PROBE_OK_MS = 5000;
/** Probe interval while it does not: recovery is noticed within about this. */
const PROBE_DOWN_MS = 1000;
/** How long one probe may take. */
const PROBE_TIMEOUT_MS = 3000;
/** How long a call waits on the probe it triggers while the node is down. */
const ADMIT_PROBE_MS = 1000;

/** What to do about an unreachable node. */
export const UNREACHABLE_HINT = 'start Kubo (`ipfs daemon`), or switch this mount to the embedded node (node "embedded")';

/** The reachability of one node, probed while in use. */
export class NodeHealthMonitor implements HealthSource {
  private state: MountHealth;
  private readonly listeners = new Set<(h: MountHealth) => void>();
  private timer: NodeJS.Timeout | undefined;
  private users = 0;
  private probing: Promise<void> | undefined;

  constructor(
    readonly address: string,
    private readonly probe: (signal: AbortSignal) => Promise<unknown>,
  ) {
    this.state = { node: 'ok', address, since: new Date().toISOString() };
  }

  current(): MountHealth {
    return { ...this.state };
  }

  subscribe(fn: (h: MountHealth) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** True while the node counts as unreachable. */
  get down(): boolean {
    return this.state.node === 'unreachable';
  }

  private set(node: MountHealth['node'], error?: ErrorInfo): void {
    if (this.state.node === node && (node === 'ok' || this.state.error?.message === error?.message)) return;
    const wasDown = this.down;
    this.state = { node, address: this.address, since: new Date().toISOString(), ...(error ? { error } : {}) };
    for (const l of this.listeners) l(this.current());
    if (wasDown !== this.down) this.schedule();
  }

  /** A call got no answer: the node is unreachable. */
  markDown(err: FsError): void {
    const cause = (err.cause as { cause?: { code?: string } } | undefined)?.cause?.code;
    this.set('unreachable', { kind: 'Unavailable', message: err.message, hint: UNREACHABLE_HINT, ...(cause ? { errno: cause } : {}) });
  }

  /** A call or probe got an answer. */
  markUp(): void {
    this.set('ok');
  }

  /** Probes once now (mount time); settles with the state it found. Concurrent callers share one probe. */
  async check(timeoutMs = PROBE_TIMEOUT_MS): Promise<MountHealth> {
    this.probing ??= (async () => {
      try {
        await this.probe(AbortSignal.timeout(timeoutMs));
        this.markUp();
      } catch (err) {
        const fe = err instanceof FsError ? err : new FsError('IO', String(err));
        if (isUnreachable(fe) || fe.kind === 'Timeout') this.markDown(fe);
      } finally {
        this.probing = undefined;
      }
    })();
    await this.probing;
    return this.current();
  }

  /**
   * Lets a call through, or fails it at once while the node is unreachable. A call that
   * finds the node down first asks it once more (one short probe shared by every waiting
   * call), so a node that came back is used at once and one that is still gone costs
   * a refused connection, not a deadline.
   */
  async admit(what: string): Promise<void> {
    if (!this.down) return;
    await this.check(ADMIT_PROBE_MS);
    if (!this.down) return;
    throw new FsError('IO', `${what}: the IPFS node at ${this.address} is unreachable (${this.state.error?.message ?? 'no answer'}); ${UNREACHABLE_HINT}`);
  }

  /** A mount started using the node: probing runs while anyone does. */
  acquire(): void {
    if (this.users++ === 0) this.schedule();
  }

  /** A mount stopped using the node. */
  release(): void {
    if (--this.users <= 0) {
      this.users = 0;
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.users === 0) return;
    this.timer = setTimeout(() => {
      void this.check().finally(() => this.schedule());
    }, this.down ? PROBE_DOWN_MS : PROBE_OK_MS);
    this.timer.unref();
  }
}

const monitors = new Map<string, NodeHealthMonitor>();

/** The process's monitor for the node at `address`. */
export function monitorFor(address: string, probe: (signal: AbortSignal) => Promise<unknown>): NodeHealthMonitor {
  let m = monitors.get(address);
  if (!m) {
    m = new NodeHealthMonitor(address, probe);
    monitors.set(address, m);
  }
  return m;
}

/** An IpfsNode whose calls feed a health monitor and fail fast while it is down. */
export class MonitoredNode implements IpfsNode {
  private released = false;

  constructor(
    /** The node called (e.g. the Kubo RPC backend). */
    readonly inner: IpfsNode,
    readonly health: NodeHealthMonitor,
  ) {
    health.acquire();
  }

  get address(): string {
    return this.inner.address;
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    await this.health.admit(what);
    try {
      const v = await fn();
      this.health.markUp();
      return v;
    } catch (err) {
      if (isUnreachable(err)) this.health.markDown(err as FsError);
      throw err;
    }
  }

  private async *stream<T>(what: string, it: () => AsyncIterable<T>): AsyncIterable<T> {
    await this.health.admit(what);
    let first = true;
    try {
      for await (const v of it()) {
        if (first) this.health.markUp();
        first = false;
        yield v;
      }
    } catch (err) {
      if (isUnreachable(err)) this.health.markDown(err as FsError);
      throw err;
    }
  }

  stat(cid: string, opts: NodeCallOpts): Promise<IpfsStat> {
    return this.run(`stat ${cid}`, () => this.inner.stat(cid, opts));
  }
  resolve(path: string, opts: NodeCallOpts): Promise<IpfsStat> {
    return this.run(`resolve ${path}`, () => this.inner.resolve(path, opts));
  }
  ls(cid: string, opts: NodeCallOpts): AsyncIterable<IpfsLsEntry> {
    return this.stream(`ls ${cid}`, () => this.inner.ls(cid, opts));
  }
  block(cid: string, opts: BlockOpts): Promise<Uint8Array> {
    return this.run(`block get ${cid}`, () => this.inner.block(cid, opts));
  }
  cat(cid: string, opts: CatOpts): AsyncIterable<Uint8Array> {
    return this.stream(`cat ${cid}`, () => this.inner.cat(cid, opts));
  }
  pins(opts: NodeCallOpts): Promise<string[]> {
    return this.run('pin ls', () => this.inner.pins(opts));
  }
  keys(opts: NodeCallOpts): Promise<IpfsKey[]> {
    return this.run('key list', () => this.inner.keys(opts));
  }
  nameResolve(name: string, opts: NodeCallOpts): Promise<string> {
    return this.run(`name resolve ${name}`, () => this.inner.nameResolve(name, opts));
  }
  repoStat(opts: NodeCallOpts): Promise<IpfsRepoStat> {
    return this.run('repo stat', () => this.inner.repoStat(opts));
  }
  add(path: string, opts: AddOpts): Promise<AddResult> {
    return this.run(`add ${path}`, () => this.inner.add(path, opts));
  }
  mfs(): MfsBackend {
    return this.inner.mfs();
  }
  async close(): Promise<void> {
    if (!this.released) this.health.release();
    this.released = true;
    await this.inner.close();
  }
}
