import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DesktopSettingsSchema, type DesktopSettings } from '../../src-shared/bridge.ts';

// The desktop app's own settings (launch at login, the ipfs:// handler): one small JSON
// file in Electron's userData, validated with the contract's schema on the way in and out.
// They belong to this machine's app, not to the mount table that the daemon shares.

/** What a fresh install starts with: nothing registered with the OS until the user asks. */
export const DEFAULT_DESKTOP_SETTINGS: DesktopSettings = { launchAtLogin: false, protocolHandler: false };

/** The settings file. Owner of its contents: this store. */
export class DesktopSettingsStore {
  constructor(
    readonly file: string,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /** The saved settings; defaults when there is no file; a damaged file is moved aside (never dropped) and defaults used. */
  async load(): Promise<DesktopSettings> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...DEFAULT_DESKTOP_SETTINGS };
      throw err;
    }
    try {
      // Keys this version does not know (a newer Berth wrote them) are dropped, not fatal.
      return DesktopSettingsSchema.strip().parse({ ...DEFAULT_DESKTOP_SETTINGS, ...(JSON.parse(text) as object) });
    } catch (err) {
      const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(this.file, aside).catch(() => undefined);
      this.log(`${this.file} could not be read (${(err as Error).message.slice(0, 200)}); moved to ${aside}, using the defaults`);
      return { ...DEFAULT_DESKTOP_SETTINGS };
    }
  }

  /** Saves the settings: temp file, fsync, rename. */
  async save(settings: DesktopSettings): Promise<void> {
    const valid = DesktopSettingsSchema.parse(settings);
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(valid, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }
}
