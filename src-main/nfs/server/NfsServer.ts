import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { Vfs } from '../../vfs/types.ts';
import type { NfsAuthPolicy } from './credentials.ts';
import { mountProgram } from '../mount3/mountProgram.ts';
import { RpcServer } from '../rpc/RpcServer.ts';
import { DirListingCache } from './DirListingCache.ts';
import { HandleJournal } from './HandleJournal.ts';
import { HandleTable } from './HandleTable.ts';
import type { NfsContext, NfsProcedure } from './NfsContext.ts';
import { NFS3_PROCEDURES, nfsProgram } from './nfsProgram.ts';
import { OpenFileCache } from './OpenFileCache.ts';

/** Options of an NFS server. */
export interface NfsServerOptions {
  /** Refuse every write with NFS3ERR_ROFS even when the guest could write. */
  readOnly?: boolean;
  /** rtmax/wtmax; default 1 MiB. */
  maxIo?: number;
  /** Decides on each connection by client address (the allow-list). */
  allow?: (address: string) => boolean;
  /** The NFSv3 dispatch table; defaults to every RFC 1813 procedure. */
  procedures?: Record<number, NfsProcedure>;
  /** Told about connection-level and unexpected failures (and refused credentials). */
  onError?: (err: Error, remote: string) => void;
  /** Credential rules besides `writable` (credentials.ts); default: root squash, any port, the server's own uid. */
  auth?: Partial<Omit<NfsAuthPolicy, 'writable'>>;
  /**
   * What the export serves, in words that stay the same when the server restarts (the
   * guest's description). The export's bytes in every handle and its fsid derive from it,
   * so a client keeps a working root handle over a restart (HandleTable). Random when not given.
   */
  exportKey?: string;
  /**
   * Where the handle table goes from one run to the next (with exportKey): read and removed
   * at start, written when the server closes. While it runs, the table is journaled beside
   * it (`<handlesFile>.journal`, HandleJournal.ts), so a run that ends otherwise (a crash, a
   * kill) hands it on too; only after the machine restarted do the next run's handles but
   * the root's start anew (the old ones answer STALE).
   */
  handlesFile?: string;
}

/** MOUNT v3 and NFSv3 for one guest on one TCP port (no portmapper). */
export class NfsServer {
  private readonly rpc: RpcServer;
  /** Where the handle table comes from and goes to (NfsServerOptions.handlesFile). */
  private readonly handlesFile: string | undefined;
  /** The export's 8 bytes. */
  private readonly exportId: Buffer;
  /** The table was taken over from the files (once listening): it goes back at close. */
  private handlesTaken = false;
  /** The table's journal while the server runs (with handlesFile). */
  private journal: HandleJournal | undefined;
  /** The per-server state every procedure gets. */
  readonly ctx: NfsContext;

  constructor(vfs: Vfs, opts: NfsServerOptions = {}) {
    const maxIo = opts.maxIo ?? 1024 * 1024;
    const readOnly = opts.readOnly ?? vfs.readOnly;
    const key = opts.exportKey === undefined ? randomBytes(16) : createHash('sha256').update(`berth nfs export\0${opts.exportKey}`).digest();
    const exportId = key.subarray(0, 8);
    this.exportId = exportId;
    this.handlesFile = opts.exportKey === undefined ? undefined : opts.handlesFile;
    this.ctx = {
      vfs,
      readOnly,
      auth: {
        writable: !readOnly && !vfs.readOnly,
        rootSquash: opts.auth?.rootSquash ?? true,
        reservedPort: opts.auth?.reservedPort ?? false,
        serverUid: opts.auth?.serverUid ?? process.getuid?.(),
        allowUids: opts.auth?.allowUids ?? [],
      },
      // With handlesFile, replaced by the table an earlier run left once the port is ours (listen).
      handles: new HandleTable(undefined, exportId),
      dirs: new DirListingCache(vfs),
      files: new OpenFileCache(vfs, maxIo),
      fsid: key.readBigUInt64BE(8),
      writeVerf: randomBytes(8),
      maxIo,
      exclusive: new Map(),
      mounts: new Map(),
    };
    this.rpc = new RpcServer({
      programs: [mountProgram(this.ctx), nfsProgram(this.ctx, opts.procedures ?? NFS3_PROCEDURES)],
      maxRecord: maxIo + 64 * 1024,
      ...(opts.allow ? { allow: opts.allow } : {}),
      ...(opts.onError ? { onError: opts.onError } : {}),
      ...(this.handlesFile ? { beforeReply: () => this.journal?.flush() } : {}),
    });
  }

  /**
   * Starts listening (port 0 picks a free one); resolves with the bound address. Only then,
   * before any call is read, does it take over the handles an earlier run left: a server
   * that cannot have the port (another run of the same export serves it) leaves them alone.
   */
  async listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    const address = await this.rpc.listen(port, host);
    if (this.handlesFile) this.takeHandles(this.handlesFile);
    return address;
  }

  /** Takes the table an earlier run left and starts journaling it. */
  private takeHandles(file: string): void {
    const table = openHandles(file, this.exportId);
    // Taken once: a run that ends without writing it again must not hand out its ids twice
    // (the journal, which has them from here on, is only read when there is no snapshot).
    rmSync(file, { force: true });
    this.journal = HandleJournal.start(journalOf(file), table, (err) => {
      console.error(`berth: the NFS handles cannot be journaled (${err.message}); if this run ends without a clean stop, its clients' handles but the root's will be stale`);
    });
    (this.ctx as { handles: HandleTable }).handles = table;
    this.handlesTaken = true;
  }

  /** Live client connections. */
  get connectionCount(): number {
    return this.rpc.connectionCount;
  }

  /** Stops serving and releases open guest handles (the guest itself stays open); leaves the handle table for the next run (handlesFile). */
  async close(): Promise<void> {
    await this.rpc.close();
    await this.ctx.files.closeAll();
    if (this.handlesFile && this.handlesTaken) {
      const file = this.handlesFile;
      this.handlesTaken = false;
      const kept = await keepSnapshot(file, this.ctx.handles.snapshot()).then(
        () => true,
        (err: unknown) => {
          console.error(`berth: the NFS handles could not be kept for the next run (${(err as Error).message}); its clients' handles but the root's will be stale`);
          return false;
        },
      );
      // Kept: the snapshot hands the table on. Not kept: the journal has it all, as after a crash.
      this.journal?.close({ keepFile: !kept });
    }
  }
}

/** The journal beside a handles file. */
function journalOf(handlesFile: string): string {
  return `${handlesFile}.journal`;
}

/**
 * The table an earlier run left for this export: its snapshot from a clean stop, else what
 * its journal recorded (a run that did not stop cleanly), else a new table.
 */
function openHandles(file: string, exportId: Buffer): HandleTable {
  return readSnapshot(file, exportId) ?? HandleJournal.recover(journalOf(file), exportId) ?? new HandleTable(undefined, exportId);
}

/** The table an earlier run left in `file` for this export; undefined when there is none (or it is not one). */
function readSnapshot(file: string, exportId: Buffer): HandleTable | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  return HandleTable.fromSnapshot(bytes, exportId);
}

/**
 * How long a table is kept for a next run that does not come: past it, the export was
 * removed or changed (its file is named by what it served and where) or its clients have
 * long given up on it. A big table is ~10 MB, and nothing else would ever remove it.
 */
export const SNAPSHOT_MAX_AGE_MS = 30 * 24 * 3600_000;
/** A temporary file older than this was left by a run that stopped while writing it. */
const TMP_MAX_AGE_MS = 3600_000;

/** Writes a table for the next run: only the user may read it (it names paths), and it appears whole or not at all. */
async function keepSnapshot(file: string, bytes: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes, { mode: 0o600 });
  await rename(tmp, file);
  await pruneSnapshots(dirname(file), basename(file), Date.now());
}

/** Removes the tables in `dir` no run has taken for SNAPSHOT_MAX_AGE_MS (but `keep`), and temporary files left behind. */
async function pruneSnapshots(dir: string, keep: string, now: number): Promise<void> {
  for (const name of await readdir(dir).catch(() => [])) {
    const maxAge = name.endsWith('.handles') || name.endsWith('.handles.journal') ? SNAPSHOT_MAX_AGE_MS : name.endsWith('.tmp') ? TMP_MAX_AGE_MS : undefined;
    if (maxAge === undefined || name === keep) continue;
    const st = await lstat(join(dir, name)).catch(() => undefined);
    if (st?.isFile() && now - st.mtimeMs > maxAge) await rm(join(dir, name), { force: true }).catch(() => {});
  }
}
