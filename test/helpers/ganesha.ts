import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand, missingPeer } from './peers.ts';
import { unusedPort } from './ports.ts';

// Starts nfs-ganesha (VFS FSAL) exporting a folder, exactly as PEERS.md says: rpcbind
// first (ganesha registers with it), a config in a temp folder, 127.0.0.1 only, free
// ports. stop() kills what it started and removes the temp folder. A ganesha that does not
// come up is stopped and started once more on other ports; the reason is printed.

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
  try {
    return await startOnce(dir, opts);
  } catch (err) {
    console.warn(`ganesha did not start; trying once more on other ports. ${(err as Error).message}`);
    return await startOnce(dir, opts);
  }
}

/**
 * What ganesha's log says of trouble (its WARN, MAJ, CRIT and FATAL lines, but for the
 * DBUS ones every start here has), then its last lines.
 */
function logDigest(text: string): string {
  const trouble = text.split('\n').filter((l) => /:(WARN|MAJ|CRIT|FATAL) :/.test(l) && !/:DBUS :/.test(l));
  return [`ganesha's warnings (${trouble.length}):`, ...trouble.slice(0, 20), 'its last lines:', text.slice(-1500)].join('\n');
}

async function startOnce(dir: string, opts: GaneshaOptions): Promise<Ganesha> {
  const work = mkdtempSync(join(tmpdir(), 'berth-ganesha-'));
  const started: ChildProcess[] = [];
  rpcbindUsers++;
  if (!rpcbindRunning()) {
    mkdirSync('/run/rpcbind', { recursive: true });
    ownRpcbind = spawn('rpcbind', ['-f', '-w'], { stdio: 'ignore' });
    await waitFor('rpcbind', rpcbindRunning, 10_000);
  }
  const [nfsPort, mountPort, nlmPort, rquotaPort] = [await unusedPort(), await unusedPort(), await unusedPort(), await unusedPort()];
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
  /** What the last nfs-ls of the export probe printed, when it failed. */
  let probeSaid = '';
  const readLog = (): string => `${probeSaid ? `the last nfs-ls said: ${probeSaid}\n` : ''}${existsSync(log) ? logDigest(readFileSync(log, 'utf8')) : '(no log)'}`;
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
  /**
   * Throws at once when ganesha is gone (a port it could not bind is FATAL to it) or says it
   * could not create the export (it then refuses every MNT, for good). The latter leaves the
   * log CI showed once (ganesha up, `recv errno 104` for every probe); why its export could
   * not be made there is not known.
   */
  const alive = (): void => {
    if (ganesha.exitCode !== null || ganesha.signalCode !== null) throw new Error(`ganesha exited (${ganesha.signalCode ?? `exit ${String(ganesha.exitCode)}`}) before it served\n${readLog()}`);
    if (existsSync(log) && readFileSync(log, 'utf8').includes('Could not create export')) throw new Error(`ganesha could not create the export\n${readLog()}`);
  };
  try {
    await waitFor('ganesha', async () => (alive(), (await canConnect(nfsPort)) && (await canConnect(mountPort))), 30_000, readLog);
    // The ports open before the export is ready; wait until a client can list it.
    await waitFor('the ganesha export', () => {
      alive();
      try {
        execFileSync('nfs-ls', [url()], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5_000 });
        return true;
      } catch (err) {
        const e = err as { stderr?: Buffer; signal?: string; status?: number };
        probeSaid = `${e.stderr?.toString().trim() || '(nothing)'} (${e.signal ?? `exit ${String(e.status)}`})`;
        return false;
      }
    }, 30_000, readLog);
  } catch (err) {
    await stop();
    throw err;
  }
  return { nfsPort, mountPort, exportPath: dir, url, stop };
}
