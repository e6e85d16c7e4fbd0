import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

// Launch at login on Linux: an XDG autostart entry (freedesktop "Desktop Application
// Autostart Specification"), $XDG_CONFIG_HOME/autostart/berth.desktop, written and
// removed by the app. Its Exec line starts Berth hidden in the tray.

/** Marks the entry as Berth's own, so reading it back knows who wrote it. */
const MARK = 'X-Berth-Autostart=true';

/** $XDG_CONFIG_HOME/autostart/berth.desktop (else ~/.config/autostart/berth.desktop). */
export function autostartFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'autostart', 'berth.desktop');
}

/** Characters that make an Exec argument need quotes (Desktop Entry spec, "The Exec key"). */
const RESERVED = /[\s"'\\><~|&;$*?#()`]/;

/**
 * One argument in the Exec key's syntax: quoted when it holds a reserved character, with
 * `"`, `` ` ``, `$` and `\` escaped inside the quotes; `%` doubled (field codes); then the
 * string-value escapes every key gets (a backslash written twice).
 */
export function execArg(arg: string): string {
  if (/[\n\r\0]/.test(arg)) throw new Error(`cannot put a line break or NUL into an autostart entry: ${JSON.stringify(arg.slice(0, 80))}`);
  let quoted = arg.replace(/%/g, '%%');
  if (quoted === '' || RESERVED.test(quoted)) quoted = `"${quoted.replace(/["`$\\]/g, (c) => `\\${c}`)}"`;
  return quoted.replace(/\\/g, '\\\\');
}

/** The entry's text for a command line. */
export function autostartEntry(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('an autostart entry needs a command');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Berth',
    'Comment=Mount IPFS content and NFS shares as folders (starts in the tray)',
    `Exec=${argv.map(execArg).join(' ')}`,
    'Icon=berth',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    MARK,
    '',
  ].join('\n');
}

/** Writes the entry (temp file + rename, so a session starting meanwhile never reads half of it). */
export async function writeAutostart(file: string, argv: readonly string[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, autostartEntry(argv), { mode: 0o644 });
  await rename(tmp, file);
}

/** Removes the entry; nothing to do when there is none. */
export async function removeAutostart(file: string): Promise<void> {
  await unlink(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** True when the entry exists and is not switched off (Hidden=true or X-GNOME-Autostart-enabled=false). */
export async function hasAutostart(file: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return false;
  }
  return !/^Hidden\s*=\s*true\s*$/m.test(text) && !/^X-GNOME-Autostart-enabled\s*=\s*false\s*$/m.test(text);
}
