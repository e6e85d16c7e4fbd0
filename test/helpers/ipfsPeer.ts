import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { create, type KuboRPCClient } from 'kubo-rpc-client';
import { missingPeer } from './peers.ts';
import { unusedPort } from './ports.ts';

// Starts the js-ipfs daemon (PEERS.md) as a child process: offline, loopback only,
// random ports, a throw-away repo. Tests and benchmarks use it as "a Kubo RPC node".

const ROOT = resolve(import.meta.dirname, '../..');
/** The js-ipfs CLI entry; run with `node` so no shell or .bin shim is involved. */
const JSIPFS_CLI = join(ROOT, 'node_modules/ipfs/src/cli.js');
const WITH_RESOLVERS = join(ROOT, 'test/helpers/withResolvers.cjs');
// generous: on a loaded 2-core machine init and daemon start each took up to ~25 s
const START_TIMEOUT_MS = 90_000;

/** A running js-ipfs peer. */
export interface IpfsPeer {
  /** `/ip4/127.0.0.1/tcp/N` of the RPC API. */
  readonly apiMultiaddr: string;
  /** `http://127.0.0.1:N` of the RPC API (without /api/v0). */
  readonly apiUrl: string;
  /** `http://127.0.0.1:M` of the path gateway. */
  readonly gatewayUrl: string;
  /** The peer's IPFS_PATH (it also holds the `api` file discover.ts reads). */
  readonly repoPath: string;
  /** A kubo-rpc-client talking to the peer. */
  readonly client: KuboRPCClient;
  /** The daemon's pid while it runs; undefined once it exited (killed or stopped). */
  readonly pid: number | undefined;
  /** Stops the daemon (SIGTERM, then SIGKILL after 5 s) and deletes the repo. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILLs the daemon and waits for it to exit; the repo stays, `start()` brings it back. */
  kill(): Promise<void>;
  /** (Re)starts the daemon on the same ports and repo; resolves when the API answers. */
  start(): Promise<void>;
}

/** Options for startIpfsPeer. */
export interface IpfsPeerOptions {
  /** Extra env for the daemon (e.g. DEBUG). */
  env?: Record<string, string>;
  /** Milliseconds each of init and daemon start may take (default 90 s). */
  startTimeoutMs?: number;
}

/** Every daemon and repo this process started, so a crashed test run still cleans up on exit. */
const live = new Set<ChildProcess>();
const repos = new Set<string>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const repo of repos) rmSync(repo, { recursive: true, force: true });
});

/** Reason the js-ipfs peer cannot run here, or undefined (see peers.ts for CI behaviour). */
export function missingIpfsPeer(): string | undefined {
  return missingPeer(
    'js-ipfs peer',
    () => existsSync(JSIPFS_CLI) && existsSync(WITH_RESOLVERS),
    `needs ${JSIPFS_CLI} (npm install, ipfs@0.66.1 in devDependencies)`,
  );
}

function peerEnv(repoPath: string, extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const prev = process.env.NODE_OPTIONS ?? '';
  return {
    ...process.env,
    ...extra,
    IPFS_PATH: repoPath,
    NODE_OPTIONS: `${prev} --require ${WITH_RESOLVERS}`.trim(),
    // never let the peer think it is in a browser test or print colours into our logs
    FORCE_COLOR: '0',
  };
}

/** Runs one jsipfs CLI command to completion; rejects with its stderr on failure. */
async function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return await new Promise((res, rej) => {
    const child = spawn(process.execPath, [JSIPFS_CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      if (code === 0) res(out);
      else rej(new Error(`jsipfs ${args.join(' ')} failed (${sig ?? `exit ${String(code)}`}): ${err.trim() || out.trim()}`));
    });
  });
}

/**
 * Starts a fresh js-ipfs peer: init --profile test, empty Swarm/Bootstrap, API and
 * Gateway on free 127.0.0.1 ports, `daemon --offline --enable-preload=false`.
 */
export async function startIpfsPeer(opts: IpfsPeerOptions = {}): Promise<IpfsPeer> {
  const timeoutMs = opts.startTimeoutMs ?? START_TIMEOUT_MS;
  const repoPath = await mkdtemp(join(tmpdir(), 'berth-ipfs-'));
  repos.add(repoPath);
  const env = peerEnv(repoPath, opts.env);
  // RPC is js-ipfs's own gRPC-over-websocket server; it needs a port of its own.
  const [apiPort, gwPort, rpcPort] = [await unusedPort(), await unusedPort(), await unusedPort()];
  const apiMultiaddr = `/ip4/127.0.0.1/tcp/${apiPort}`;
  const gwMultiaddr = `/ip4/127.0.0.1/tcp/${gwPort}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  try {
    await runCli(['init', '--profile', 'test'], env, timeoutMs);
    // Editing the config file directly is what `jsipfs config` does, minus ~1 s of
    // CLI start-up per key.
    const cfgPath = join(repoPath, 'config');
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8')) as Record<string, Record<string, unknown>>;
    cfg.Addresses = { ...cfg.Addresses, Swarm: [], API: apiMultiaddr, Gateway: gwMultiaddr, RPC: `/ip4/127.0.0.1/tcp/${rpcPort}`, Delegates: [], Announce: [], NoAnnounce: [] };
    cfg.Bootstrap = [] as unknown as Record<string, unknown>;
    cfg.Discovery = { MDNS: { Enabled: false }, webRTCStar: { Enabled: false } };
    await writeFile(cfgPath, JSON.stringify(cfg, null, 2));
  } catch (err) {
    await rm(repoPath, { recursive: true, force: true });
    repos.delete(repoPath);
    throw err;
  }

  let child: ChildProcess | undefined;
  let stopped = false;

  const start = async (): Promise<void> => {
    if (stopped) throw new Error('this IpfsPeer was stopped (its repo is gone); start a new one');
    if (child && child.exitCode === null && child.signalCode === null) return;
    // A SIGKILLed daemon leaves its lock behind; no daemon runs on this repo now.
    await rm(join(repoPath, 'repo.lock'), { recursive: true, force: true });
    await rm(join(repoPath, 'api'), { force: true });
    const proc = spawn(process.execPath, [JSIPFS_CLI, 'daemon', '--offline', '--enable-preload=false'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    live.add(proc);
    let log = '';
    const keep = (b: Buffer): void => {
      log = (log + b.toString()).slice(-8000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    let exited: string | undefined;
    proc.once('exit', (code, sig) => {
      live.delete(proc);
      exited = sig ?? `exit code ${String(code)}`;
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited !== undefined) {
        throw new Error(`js-ipfs daemon exited before its API answered (${exited}): ${log.trim()}`);
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`js-ipfs daemon API ${apiUrl} did not answer within ${timeoutMs} ms: ${log.trim()}`);
      }
      try {
        const res = await fetch(`${apiUrl}/api/v0/id`, { method: 'POST', signal: AbortSignal.timeout(2000) });
        if (res.ok) {
          await res.arrayBuffer();
          return;
        }
        await res.arrayBuffer();
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  };

  const waitExit = async (proc: ChildProcess, graceMs: number): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((res) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      proc.once('exit', () => {
        clearTimeout(timer);
        res();
      });
    });
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    if (!proc) return;
    proc.kill('SIGKILL');
    await waitExit(proc, 5000);
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const proc = child;
    if (proc) {
      proc.kill('SIGTERM');
      await waitExit(proc, 5000);
    }
    await rm(repoPath, { recursive: true, force: true });
    repos.delete(repoPath);
  };

  try {
    await start();
  } catch (err) {
    await stop();
    throw err;
  }

  const client = create({ url: apiUrl });
  return {
    apiMultiaddr,
    apiUrl,
    gatewayUrl: `http://127.0.0.1:${gwPort}`,
    repoPath,
    client,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    stop,
    kill,
    start,
  };
}
