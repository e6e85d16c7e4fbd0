import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

// The embedded node's recursive pins and its MFS root, in one small JSON file written by
// temp + fsync + rename (a crash leaves the old file or the new one, never half of one).
// Pinned DAGs and the MFS tree are what the block cache never evicts (LocalBlocks).

interface RootsFile {
  version: 1;
  pins: string[];
  /** The MFS root folder's CID; absent until the first MFS write. */
  mfsRoot?: string;
}

/** Pins and the MFS root of one repo. Owner: the EmbeddedNode. */
export class PinStore {
  private data: RootsFile = { version: 1, pins: [] };
  private loaded: Promise<void> | undefined;
  /** Writes run one after another, so the file always holds the latest state. */
  private writing: Promise<void> = Promise.resolve();
  private readonly file: string;

  constructor(repoDir: string) {
    this.file = join(repoDir, 'roots.json');
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      try {
        const parsed = JSON.parse(await readFile(this.file, 'utf8')) as Partial<RootsFile>;
        this.data = { version: 1, pins: Array.isArray(parsed.pins) ? parsed.pins.filter((p) => typeof p === 'string') : [] };
        if (typeof parsed.mfsRoot === 'string') this.data.mfsRoot = parsed.mfsRoot;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    })();
    return this.loaded;
  }

  private save(): Promise<void> {
    const text = `${JSON.stringify(this.data, null, 2)}\n`;
    const next = this.writing.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Recursive pins, in the order they were added. */
  async pins(): Promise<string[]> {
    await this.load();
    return [...this.data.pins];
  }

  /** Adds a recursive pin (once). */
  async pin(cid: string): Promise<void> {
    await this.load();
    if (this.data.pins.includes(cid)) return;
    this.data.pins.push(cid);
    await this.save();
  }

  /** Removes a pin; false when it was not pinned. */
  async unpin(cid: string): Promise<boolean> {
    await this.load();
    const before = this.data.pins.length;
    this.data.pins = this.data.pins.filter((p) => p !== cid);
    if (this.data.pins.length === before) return false;
    await this.save();
    return true;
  }

  /** The MFS root CID, or undefined before the first MFS write. */
  async mfsRoot(): Promise<string | undefined> {
    await this.load();
    return this.data.mfsRoot;
  }

  /** Records a new MFS root; settles once it is durable. */
  async setMfsRoot(cid: string): Promise<void> {
    await this.load();
    this.data.mfsRoot = cid;
    await this.save();
  }

  /** Every root whose DAG must stay in the store. */
  async roots(): Promise<string[]> {
    await this.load();
    return this.data.mfsRoot ? [...this.data.pins, this.data.mfsRoot] : [...this.data.pins];
  }
}
