import { closeSync, ftruncateSync, futimesSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { bytesOfName, hasRawBytes, nameFromBytes } from '../../sys/byteNames.ts';
import { HandleTable, isGuestPath, readId, writeId, type HandleTableJournal } from './HandleTable.ts';

// The handle table of a running export, kept on disk as it changes, so that a run that ends
// without a clean stop (a crash, a kill) hands the next one every handle its clients hold,
// as a clean stop does with a snapshot (NfsServer's handlesFile). The file is a snapshot of
// the table when the run began (its base) followed by a record per change: an id handed out
// for a path, a rename, a removal.
// Records are kept in memory until a reply is about to leave (flush(), called by the RPC
// connection before it writes one): no client can hold a handle, or rely on a rename, that
// the file does not have yet. One write(2) per reply that changed the table, none otherwise.
//
// Read back only on the same boot of the machine: a power cut may have lost the file's
// last writes, and with them a rename; the next run then answers STALE, as it does with no
// journal at all. A record cut short (a kill during a write) ends the journal there. The file
// is compacted (a new base, no records) once its records outgrow the base.

const MAGIC = Buffer.from('BRTJ');
const ISSUED = 1;
const RENAMED = 2;
const FORGOT = 3;
/** Record bytes past which the journal is compacted, at least (else twice its base's). */
const COMPACT_MIN = 4 * 1024 * 1024;
/**
 * How often a journal's modification time is set to now, whatever changed: the clean stop
 * of any export removes the files no run took for 30 days (NfsServer's pruneSnapshots), and
 * a journal is in use for as long as its export runs, changed or not.
 */
const TOUCH_MS = 24 * 3600_000;

/** This boot of the machine (empty where Linux does not say). */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** The journal's first bytes: magic, this boot, then the base table's length and bytes. */
function header(base: Buffer): Buffer {
  const boot = Buffer.from(bootId());
  const head = Buffer.allocUnsafe(4 + 4 + boot.length + 4);
  MAGIC.copy(head, 0);
  head.writeUInt32BE(boot.length, 4);
  boot.copy(head, 8);
  head.writeUInt32BE(base.length, 8 + boot.length);
  return Buffer.concat([head, base]);
}

/** The bytes a recordable path takes. */
function lengthOf(p: string | Buffer): number {
  return typeof p === 'string' ? Buffer.byteLength(p) : p.length;
}

/** Writes a recordable path of `len` bytes into `b` at `at`. */
function put(b: Buffer, p: string | Buffer, at: number, len: number): void {
  if (typeof p === 'string') b.write(p, at, len, 'utf8');
  else p.copy(b, at);
}

/** Writes all of `buf` to `fd`. */
function writeAll(fd: number, buf: Buffer, length = buf.length): void {
  for (let at = 0; at < length; ) at += writeSync(fd, buf, at, length - at);
}

/** Writes `bytes` as `file` whole or not at all (only the user may read it: it names paths); returns it opened to append. */
function replaceFile(file: string, bytes: Buffer): number {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeAll(fd, bytes);
    renameSync(tmp, file);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  return fd;
}

/** Keeps one handle table's changes in `file` (see above). */
export class HandleJournal implements HandleTableJournal {
  private pending = Buffer.allocUnsafe(4096);
  private used = 0;
  /** Record bytes in the file after its base. */
  private appended = 0;
  /** Keeps the file's modification time recent (TOUCH_MS). */
  private readonly toucher: NodeJS.Timeout;

  private constructor(
    private readonly file: string,
    private fd: number,
    private readonly table: HandleTable,
    private baseBytes: number,
    private readonly onError: (err: Error) => void,
    private readonly compactAt: number,
  ) {
    this.toucher = setInterval(() => this.touch(), TOUCH_MS).unref();
  }

  /**
   * Starts a journal of `table` in `file` (replacing any there) and tells the table to
   * report to it; undefined, after saying why, when the file cannot be written.
   */
  static start(file: string, table: HandleTable, onError: (err: Error) => void, compactAt = COMPACT_MIN): HandleJournal | undefined {
    const bytes = header(table.snapshot());
    let fd: number;
    try {
      fd = replaceFile(file, bytes);
    } catch (err) {
      onError(err as Error);
      return undefined;
    }
    const journal = new HandleJournal(file, fd, table, bytes.length, onError, compactAt);
    table.journal = journal;
    return journal;
  }

  /**
   * The table a run of export `exportId` left in `file` when it ended without a clean stop,
   * with every change it recorded; undefined when there is none, it is another export's or
   * another boot's, or its base is not whole. Records past one that is cut short are not read.
   */
  static recover(file: string, exportId: Buffer, max?: number): HandleTable | undefined {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      return undefined;
    }
    if (bytes.length < 12 || !bytes.subarray(0, 4).equals(MAGIC)) return undefined;
    const bootLen = bytes.readUInt32BE(4);
    if (8 + bootLen + 4 > bytes.length) return undefined;
    const boot = bytes.toString('utf8', 8, 8 + bootLen);
    if (boot === '' || boot !== bootId()) return undefined;
    let at = 8 + bootLen;
    const baseLen = bytes.readUInt32BE(at);
    at += 4;
    if (at + baseLen > bytes.length) return undefined;
    const table = HandleTable.fromSnapshot(bytes.subarray(at, at + baseLen), exportId, max);
    if (!table) return undefined;
    at += baseLen;
    const str = (): string | undefined => {
      if (at + 4 > bytes.length) return undefined;
      const len = bytes.readUInt32BE(at);
      if (at + 4 + len > bytes.length) return undefined;
      const s = nameFromBytes(bytes, at + 4, at + 4 + len);
      at += 4 + len;
      return isGuestPath(s) ? s : undefined;
    };
    while (at < bytes.length) {
      const kind = bytes[at++];
      if (kind === ISSUED) {
        if (at + 8 > bytes.length) break;
        const id = readId(bytes, at);
        at += 8;
        const path = str();
        if (path === undefined || !table.restore(path, id)) break;
      } else if (kind === RENAMED) {
        const from = str();
        const to = from === undefined ? undefined : str();
        if (to === undefined) break;
        table.rename(from!, to);
      } else if (kind === FORGOT) {
        const path = str();
        if (path === undefined) break;
        table.forget(path);
      } else break;
    }
    return table;
  }

  issued(id: number, path: string): void {
    const p = this.recordable(path);
    if (p === undefined) return;
    const len = lengthOf(p);
    const at = this.room(1 + 8 + 4 + len);
    const b = this.pending;
    b[at] = ISSUED;
    b.writeUInt32BE(len, writeId(b, at + 1, id));
    put(b, p, at + 13, len);
  }

  renamed(from: string, to: string): void {
    const f = this.recordable(from);
    const t = f === undefined ? undefined : this.recordable(to);
    if (f === undefined || t === undefined) return;
    const fl = lengthOf(f);
    const tl = lengthOf(t);
    const at = this.room(1 + 4 + fl + 4 + tl);
    const b = this.pending;
    b[at] = RENAMED;
    b.writeUInt32BE(fl, at + 1);
    put(b, f, at + 5, fl);
    b.writeUInt32BE(tl, at + 5 + fl);
    put(b, t, at + 9 + fl, tl);
  }

  forgot(path: string): void {
    const p = this.recordable(path);
    if (p === undefined) return;
    const len = lengthOf(p);
    const at = this.room(1 + 4 + len);
    const b = this.pending;
    b[at] = FORGOT;
    b.writeUInt32BE(len, at + 1);
    put(b, p, at + 5, len);
  }

  /**
   * `path` as a record holds it: itself when it is plain UTF-8 (written in place, no copy),
   * else its bytes (byteNames.ts). A string no bytes spell cannot be recorded exactly, so
   * the journal ends there, as after a failed write (undefined).
   */
  private recordable(path: string): string | Buffer | undefined {
    if (!hasRawBytes(path)) return path;
    const bytes = bytesOfName(path);
    if (!bytes) this.fail(new RangeError(`handle journal: ${JSON.stringify(path)} is not a path any bytes spell`));
    return bytes;
  }

  /** Writes the records kept since the last flush (before a reply leaves); compacts the file when they outgrew its base. */
  flush(): void {
    if (this.used === 0) return;
    try {
      writeAll(this.fd, this.pending, this.used);
      this.appended += this.used;
      this.used = 0;
      if (this.appended > Math.max(this.compactAt, 2 * this.baseBytes)) this.compact();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /**
   * Ends the journal: the table is no longer told, and the file is removed (a clean stop
   * left a snapshot instead), unless `keepFile` (the snapshot could not be written: the next
   * run reads this, as after a crash).
   */
  close({ keepFile = false }: { keepFile?: boolean } = {}): void {
    clearInterval(this.toucher);
    if (this.table.journal === this) this.table.journal = undefined;
    if (keepFile) this.flush();
    this.used = 0;
    try {
      closeSync(this.fd);
    } catch {
      // already closed after a failure
    }
    if (!keepFile) rmSync(this.file, { force: true });
  }

  /** Sets the file's modification time to now (a journal that cannot be touched is still read back). */
  private touch(): void {
    const now = new Date();
    try {
      futimesSync(this.fd, now, now);
    } catch {
      // closed meanwhile, or a file system that refuses: the next clean stop may prune it after 30 days
    }
  }

  /** The offset of `n` bytes made free at the end of the pending records. */
  private room(n: number): number {
    if (this.used + n > this.pending.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.pending.length * 2, this.used + n));
      this.pending.copy(bigger, 0, 0, this.used);
      this.pending = bigger;
    }
    const at = this.used;
    this.used += n;
    return at;
  }

  /** A new file: the table as it is now for its base, no records. */
  private compact(): void {
    const bytes = header(this.table.snapshot());
    const fd = replaceFile(this.file, bytes);
    closeSync(this.fd);
    this.fd = fd;
    this.baseBytes = bytes.length;
    this.appended = 0;
  }

  /**
   * A write failed: the file may lack a change, so it must never be read back. It is emptied
   * (and removed); the table goes on without a journal, as a run with none does.
   */
  private fail(err: Error): void {
    this.onError(err);
    try {
      ftruncateSync(this.fd, 0);
    } catch {
      // removed below
    }
    this.close();
  }
}
