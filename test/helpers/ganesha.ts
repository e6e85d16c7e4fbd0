import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand, missingPeer } from './peers.ts';

// Starts nfs-ganesha (VFS FSAL) exporting a folder, exactly as PEERS.md says: rpcbind
// first (ganesha registers with it), a config in a temp folder, 127.0.0.1 only, free
// ports. stop() kills what it started and removes the temp folder.

/** Reason ganesha tests cannot run here, or undefined (fails under CI=true). */
export function missingGanesha(): string | undefined {
  return missingPeer(
    'nfs-ganesha',
    () => hasCommand('ganesha.nfsd') && hasCommand('rpcbind') && hasCommand('nfs-ls') && process.getuid?.() === 0,
    'needs ganesha.nfsd (apt-get install nfs-ganesha nfs-ganesha-vfs), rpcbind, libnfs-utils and root',
  );
}

/** A running ganesha. */
export interface Ganesha {
  nfsPort: number;
  mountPort: number;
  /** The path NFSv3 clients mount (the exported folder itself). */
  exportPath: string;
  /** libnfs URL of the export root (with a trailing query). */
  url(path?: string): string;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function rpcbindRunning(): boolean {
  try {
    execFileSync('rpcinfo', ['-p', '127.0.0.1'], { stdio: 'ignore', timeout: 3000 });
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms: number, log?: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up within ${ms} ms${log ? `\n${log()}` : ''}`);
}

/** Options of startGanesha. */
export interface GaneshaOptions {
  /** Extra EXPORT parameters, e.g. "Attr_Expiration_Time = 0;" (no attribute caching: the bench's fresh-read peer). */
  exportParams?: string;
}

/** rpcbind when this process started it, and how many of its ganeshas still run. */
let ownRpcbind: ChildProcess | undefined;
let rpcbindUsers = 0;

/** Stops a child: SIGTERM, SIGKILL after 5 s. */
async function end(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

/** Starts rpcbind (when none runs) and ganesha exporting `dir` read-write at /export. */
export async function startGanesha(dir: string, opts: GaneshaOptions = {}): Promise<Ganesha> {
  const work = mkdtempSync(join(tmpdir(), 'berth-ganesha-'));
  const started: ChildProcess[] = [];
  rpcbindUsers++;
  if (!rpcbindRunning()) {
    mkdirSync('/run/rpcbind', { recursive: true });
    ownRpcbind = spawn('rpcbind', ['-f', '-w'], { stdio: 'ignore' });
    await waitFor('rpcbind', rpcbindRunning, 10_000);
  }
  const [nfsPort, mountPort, nlmPort, rquotaPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const conf = join(work, 'ganesha.conf');
  const log = join(work, 'ganesha.log');
  writeFileSync(
    conf,
    `NFS_CORE_PARAM { Bind_addr=127.0.0.1; NFS_Port=${nfsPort}; MNT_Port=${mountPort}; NLM_Port=${nlmPort};
  Rquota_Port=${rquotaPort}; Protocols=3,4; Enable_NLM=false; Enable_RQUOTA=false; Enable_UDP=false; }
NFSV4 { Graceless=true; RecoveryBackend=fs; }
NFS_KRB5 { Active_krb5=false; }
EXPORT { Export_Id=1; Path=${dir}; Pseudo=/export; Protocols=3,4; Transports=TCP;
  Access_Type=RW; Squash=No_Root_Squash; ${opts.exportParams ?? ''} FSAL { Name=VFS; }
  CLIENT { Clients=127.0.0.1; Access_Type=RW; } }
LOG { Default_Log_Level=EVENT; }
`,
  );
  const ganesha = spawn('ganesha.nfsd', ['-F', '-L', log, '-f', conf, '-p', join(work, 'ganesha.pid'), '-N', 'NIV_EVENT'], { stdio: 'ignore' });
  started.push(ganesha);
  const readLog = (): string => (existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '(no log)');
  // NFSv3 clients mount the export's Path (ganesha serves Pseudo to NFSv4 only).
  const url = (path = '/'): string => `nfs://127.0.0.1${dir}${path === '/' ? '/' : path}?version=3&nfsport=${nfsPort}&mountport=${mountPort}`;
  const otherGaneshas = (): boolean => {
    try {
      return execFileSync('pgrep', ['-x', 'ganesha.nfsd'], { encoding: 'utf8' }).trim().length > 0;
    } catch {
      return false;
    }
  };
  const stop = async (): Promise<void> => {
    for (const p of started.reverse()) await end(p);
    // rpcbind this process started goes with the last of its ganeshas; while a ganesha of
    // another process still needs it, it stays up but no longer keeps this process alive.
    if (--rpcbindUsers === 0 && ownRpcbind) {
      if (otherGaneshas()) ownRpcbind.unref();
      else await end(ownRpcbind);
      ownRpcbind = undefined;
    }
    rmSync(work, { recursive: true, force: true });
  };
  try {
    await waitFor('ganesha', async () => (await canConnect(nfsPort)) && (await canConnect(mountPort)), 30_000, readLog);
    // The ports open before the export is ready; wait until a client can list it.
    await waitFor('the ganesha export', () => {
      try {
        execFileSync('nfs-ls', [url()], { stdio: 'ignore', timeout: 5_000 });
        return true;
      } catch {
        return false;
      }
    }, 30_000, readLog);
  } catch (err) {
    await stop();
    throw err;
  }
  return { nfsPort, mountPort, exportPath: dir, url, stop };
}
