import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { base32 } from 'multiformats/bases/base32';
import { z } from 'zod';
import { tryParseCid } from '../../src-shared/contentPath.ts';
import type { IpfsLsEntry, NodeType } from './IpfsNode.ts';

// Folder listings kept on disk by the folder's CID: what is under a CID never changes, so a
// listing taken once is right forever, for every mount and every node (issue 11: a fresh
// mount of a 5,000-entry folder lists it without asking the node, whose own `ls` fetches
// every child). One file per folder, written whole (temp + rename), bounded in bytes with
// the least recently used going first. A file that fails its checksum, its schema or
// names another CID is ignored with a log line and removed: never a crash, never a wrong
// listing. Only immutable content reaches it (IpfsNode.ls takes a CID; MFS lists through
// its own backend).

/** The on-disk format's version (in every file's first line). */
const VERSION = 1;
const HEADER = /^berth-listing (\d+) ([0-9a-f]{64})$/;
/** Default cap of the whole cache in bytes. */
export const DEFAULT_LISTING_CACHE_MAX_BYTES = 64 * 1024 * 1024;
/** Temp files older than this are left-overs of a process that died mid-write. */
const STALE_TMP_MS = 60 * 60 * 1000;

const TYPE_CODE = { file: 'f', dir: 'd', symlink: 'l' } as const satisfies Record<NodeType, string>;

// The envelope is checked by zod; the rows (5,000 for the folder issue 11 measures) by the
// loop in decodeListing: zod took ~35 ms of a fresh mount's ~300 ms `ls -l` for them.
const BodySchema = z.object({ cid: z.string(), entries: z.custom<unknown[]>((v) => Array.isArray(v), 'expected an array of entries') });
const CID_TEXT = /^[A-Za-z0-9]+$/;

/** A row as written by encodeListing, or undefined. */
function entryOfRow(row: unknown): IpfsLsEntry | undefined {
  if (!Array.isArray(row) || row.length !== 6) return undefined;
  const [name, cid, t, size, mode, mtimeMs] = row as unknown[];
  if (typeof name !== 'string' || name === '' || typeof cid !== 'string' || !CID_TEXT.test(cid)) return undefined;
  const type: NodeType | undefined = t === 'f' ? 'file' : t === 'd' ? 'dir' : t === 'l' ? 'symlink' : undefined;
  if (!type || !Number.isSafeInteger(size) || (size as number) < 0) return undefined;
  const e: IpfsLsEntry = { name, cid, type, size: size as number };
  if (mode !== null) {
    if (!Number.isSafeInteger(mode) || (mode as number) < 0) return undefined;
    e.mode = mode as number;
  }
  if (mtimeMs !== null) {
    if (typeof mtimeMs !== 'number' || !Number.isFinite(mtimeMs)) return undefined;
    e.mtimeMs = mtimeMs;
  }
  return e;
}

/** Where listings are kept: $XDG_CACHE_HOME/berth/listings, else ~/.cache/berth/listings. */
export function listingCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'berth', 'listings');
}

/** The file name of a CID's listing: CIDv1 base32 (one name per folder, safe on case-insensitive disks). */
function fileKey(cid: string): string | undefined {
  const parsed = tryParseCid(cid);
  return parsed ? `${parsed.toV1().toString(base32)}.lst` : undefined;
}

/** The file's bytes for a listing: a header line with version and checksum, then JSON. */
export function encodeListing(cid: string, entries: readonly IpfsLsEntry[]): Buffer {
  const rows = entries.map((e) => [e.name, e.cid, TYPE_CODE[e.type], e.size, e.mode ?? null, e.mtimeMs ?? null]);
  const body = Buffer.from(JSON.stringify({ cid, entries: rows }));
  const sum = createHash('sha256').update(body).digest('hex');
  return Buffer.concat([Buffer.from(`berth-listing ${VERSION} ${sum}\n`), body]);
}

/** The listing a file holds for `cid`; throws an Error saying what is wrong with it. */
export function decodeListing(cid: string, bytes: Buffer): IpfsLsEntry[] {
  const nl = bytes.indexOf(10);
  if (nl < 0) throw new Error('no header line');
  const m = HEADER.exec(bytes.subarray(0, nl).toString('latin1'));
  if (!m) throw new Error('not a Berth listing (bad header)');
  if (Number(m[1]) !== VERSION) throw new Error(`format version ${m[1]}, expected ${VERSION}`);
  const body = bytes.subarray(nl + 1);
  if (createHash('sha256').update(body).digest('hex') !== m[2]) throw new Error('checksum mismatch');
  const parsed = BodySchema.safeParse(JSON.parse(body.toString('utf8')));
  if (!parsed.success) throw new Error(`unexpected content: ${parsed.error.issues[0]?.message ?? 'invalid'} at ${parsed.error.issues[0]?.path.join('.') ?? ''}`);
  if (parsed.data.cid !== cid) throw new Error(`holds the listing of ${parsed.data.cid}, not ${cid}`);
  const rows = parsed.data.entries;
  const out: IpfsLsEntry[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const e = entryOfRow(rows[i]);
    if (!e) throw new Error(`unexpected content: entry ${i} is not [name, cid, f|d|l, size, mode|null, mtime|null]`);
    out[i] = e;
  }
  return out;
}

/** A folder of listings by CID, capped at `maxBytes`; shared by every mount and process of a user. */
export class ListingStore {
  /** Bytes this process believes the folder holds (undefined until first counted). */
  private total: number | undefined;
  private made: Promise<unknown> | undefined;
  /** One eviction at a time per process. */
  private evicting: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    readonly maxBytes: number = DEFAULT_LISTING_CACHE_MAX_BYTES,
    private readonly log: (line: string) => void = (l) => console.error(l),
  ) {}

  /** The kept listing of `cid`, or undefined (absent, or unusable: then logged and removed). Never throws. */
  async read(cid: string): Promise<IpfsLsEntry[] | undefined> {
    const key = fileKey(cid);
    if (!key) return undefined;
    const file = join(this.dir, key);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log(`berth: listing cache: cannot read ${file}: ${(err as Error).message}`);
      return undefined;
    }
    try {
      const entries = decodeListing(cid, bytes);
      // used now: the least recently used go first when the cap is reached
      const now = new Date();
      utimes(file, now, now).catch(() => {});
      return entries;
    } catch (err) {
      this.log(`berth: listing cache: ignoring ${file}: ${(err as Error).message}`);
      await unlink(file).catch(() => {});
      return undefined;
    }
  }

  /** Keeps a complete listing of `cid` (atomically: temp file + rename), then keeps the folder under its cap. */
  async write(cid: string, entries: readonly IpfsLsEntry[]): Promise<void> {
    const key = fileKey(cid);
    if (!key) return;
    const bytes = encodeListing(cid, entries);
    // a listing larger than the whole cache would only push everything else out
    if (bytes.length > this.maxBytes) return;
    await (this.made ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
      this.made = undefined;
      throw err;
    }));
    const file = join(this.dir, key);
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    if (this.total === undefined) await this.evict();
    else {
      this.total += bytes.length;
      if (this.total > this.maxBytes) await this.evict();
    }
  }

  /** Recounts the folder (other processes write to it too) and removes the least recently used listings past the cap. */
  evict(): Promise<void> {
    this.evicting ??= (async () => {
      try {
        const now = Date.now();
        const files: { path: string; size: number; at: number }[] = [];
        for (const name of await readdir(this.dir)) {
          const path = join(this.dir, name);
          const st = await stat(path).catch(() => undefined);
          if (!st?.isFile()) continue;
          if (name.endsWith('.tmp')) {
            if (now - st.mtimeMs > STALE_TMP_MS) await unlink(path).catch(() => {});
            continue;
          }
          files.push({ path, size: st.size, at: st.mtimeMs });
        }
        let total = files.reduce((n, f) => n + f.size, 0);
        files.sort((a, b) => a.at - b.at);
        for (const f of files) {
          if (total <= this.maxBytes) break;
          await unlink(f.path).catch(() => {});
          total -= f.size;
        }
        this.total = total;
      } finally {
        this.evicting = undefined;
      }
    })();
    return this.evicting;
  }
}
