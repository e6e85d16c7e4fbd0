import { constants } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { SettingsSchema, type Settings } from '../../src-shared/api.ts';
import { describeIssues, MountSpecSchema, type MountSpec } from '../../src-shared/mountSpec.ts';

/** The mounts.json schema version this Berth reads and writes. */
export const STORE_VERSION = 1;

/** The file on disk: `{version, mounts, settings}`. */
export const StoreFileSchema = z
  .object({
    version: z.literal(STORE_VERSION),
    mounts: z.array(MountSpecSchema).max(10_000),
    settings: SettingsSchema.default(() => SettingsSchema.parse({})),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    for (const [i, m] of file.mounts.entries()) {
      if (seen.has(m.id)) ctx.addIssue({ code: 'custom', path: ['mounts', i, 'id'], message: `duplicate mount id ${m.id}` });
      seen.add(m.id);
    }
  });

/** What the table keeps on disk. */
export interface StoreData {
  mounts: MountSpec[];
  settings: Settings;
}

/** What load() found, and what the user must be told about it. */
export interface LoadResult {
  data: StoreData;
  /** One message per problem found (corrupt file moved aside, copy restored, ...). */
  notices: string[];
}

type Checked = { ok: true; data: StoreData } | { ok: false; reason: string; salvage?: MountSpec[] };

/** Validates the text of a mounts.json; says why when it cannot be used. */
export function checkStoreText(text: string): Checked {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: text.trim() === '' ? 'the file is empty' : `not valid JSON (${(err as Error).message})` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, reason: 'expected a JSON object {version, mounts, settings}' };
  const version = (json as { version?: unknown }).version;
  if (version !== STORE_VERSION) {
    return { ok: false, reason: `schema version ${JSON.stringify(version)}; this Berth reads version ${STORE_VERSION}` };
  }
  const parsed = StoreFileSchema.safeParse(json);
  if (parsed.success) return { ok: true, data: { mounts: parsed.data.mounts, settings: parsed.data.settings } };
  // Keep whatever entries are still valid, in case no good copy exists.
  const raw = (json as { mounts?: unknown }).mounts;
  const salvage: MountSpec[] = [];
  const ids = new Set<string>();
  if (Array.isArray(raw)) {
    for (const m of raw) {
      const one = MountSpecSchema.safeParse(m);
      if (one.success && !ids.has(one.data.id)) {
        ids.add(one.data.id);
        salvage.push(one.data);
      }
    }
  }
  return { ok: false, reason: `invalid contents: ${describeIssues(parsed.error).slice(0, 500)}`, salvage };
}

/** Writes `text` to `file` atomically: temp file, fsync, rename, fsync of the folder. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), constants.O_RDONLY);
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * mounts.json in one folder, with its last good copy (mounts.json.bak). Writes are
 * serialized and coalesced: many changes at once cost at most one write in flight plus
 * one queued, and each caller's promise settles once a write containing its change is
 * on disk. Owner: the MountTable.
 */
export class MountStore {
  /** Path of mounts.json. */
  readonly file: string;
  /** Path of the last good copy. */
  readonly backup: string;
  private writing: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(readonly dir: string) {
    this.file = join(dir, 'mounts.json');
    this.backup = `${this.file}.bak`;
  }

  /**
   * Reads mounts.json. A missing file is an empty table (or the last good copy when one
   * exists); an unreadable, invalid or wrong-version file is moved aside to
   * mounts.json.corrupt-<time> and the last good copy is restored, with a notice.
   */
  async load(): Promise<LoadResult> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const notices: string[] = [];
    const text = await readText(this.file);
    if (text !== undefined) {
      const checked = checkStoreText(text);
      if (checked.ok) return { data: checked.data, notices };
      const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(this.file, aside);
      const restored = await this.restoreBackup();
      if (restored) {
        notices.push(
          `${this.file} could not be used (${checked.reason}); it was moved to ${aside} and the last good copy ` +
            `(${restored.mounts.length} mount${restored.mounts.length === 1 ? '' : 's'}) was restored from ${this.backup}`,
        );
        return { data: restored, notices };
      }
      const salvage = checked.salvage ?? [];
      notices.push(
        `${this.file} could not be used (${checked.reason}); it was moved to ${aside}. No good copy existed` +
          (salvage.length ? `; ${salvage.length} valid mount${salvage.length === 1 ? ' was' : 's were'} kept from it` : '; the table starts empty'),
      );
      const data = { mounts: salvage, settings: SettingsSchema.parse({}) };
      await this.writeBoth(data);
      return { data, notices };
    }
    const restored = await this.restoreBackup();
    if (restored) {
      notices.push(`${this.file} was missing; the last good copy (${restored.mounts.length} mounts) was restored from ${this.backup}`);
      return { data: restored, notices };
    }
    return { data: { mounts: [], settings: SettingsSchema.parse({}) }, notices };
  }

  /** Saves the table; `snapshot` is taken when the write starts, so it holds every change made before. */
  save(snapshot: () => StoreData): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.writing
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.writeBoth(snapshot());
      });
    this.queued = next;
    this.writing = next;
    return next;
  }

  /** Settles once every save requested so far is on disk (or failed). */
  async flush(): Promise<void> {
    await this.writing.catch(() => undefined);
  }

  private async restoreBackup(): Promise<StoreData | undefined> {
    const text = await readText(this.backup);
    if (text === undefined) return undefined;
    const checked = checkStoreText(text);
    if (!checked.ok) return undefined;
    await writeFileAtomic(this.file, text);
    return checked.data;
  }

  /** mounts.json first, then the same bytes as the last good copy (a separate inode, so damage to one spares the other). */
  private async writeBoth(data: StoreData): Promise<void> {
    const text = `${JSON.stringify({ version: STORE_VERSION, mounts: data.mounts, settings: data.settings }, null, 2)}\n`;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, text);
    await writeFileAtomic(this.backup, text);
  }
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Unreadable (EACCES, EISDIR, EIO): treat as corrupt content so it is moved aside.
    return `\0unreadable: ${(err as Error).message}`;
  }
}
