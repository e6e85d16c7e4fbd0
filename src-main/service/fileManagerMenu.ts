import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

// "Copy CID" and "Copy gateway link" in the Linux file managers' right-click menus: a
// Nautilus (GNOME Files) script per action and one KDE Dolphin service menu. Each runs
// `berth cid --copy` / `berth link --copy` on the selected files, which asks the running
// app to write the clipboard; when that fails the script shows why with notify-send.
// Berth writes these files when the setting is turned on and removes exactly them when
// it is turned off; a file that does not carry Berth's marker is never touched.

/** Marks files Berth wrote, so removal never deletes a user's own script of the same name. */
const MARKER = 'Written by Berth (Settings: "Copy CID in the file manager")';

/** Where the files go: $XDG_DATA_HOME (else ~/.local/share). */
function dataHome(env: NodeJS.ProcessEnv): string {
  return env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
}

/** The files of the integration, by path. */
export function fileManagerMenuFiles(env: NodeJS.ProcessEnv = process.env): { nautilusCid: string; nautilusLink: string; dolphin: string } {
  const base = dataHome(env);
  return {
    nautilusCid: join(base, 'nautilus', 'scripts', 'Berth — Copy CID'),
    nautilusLink: join(base, 'nautilus', 'scripts', 'Berth — Copy gateway link'),
    // KDE Frameworks 6 (and 5.85+) read service menus here; they must be executable.
    dolphin: join(base, 'kio', 'servicemenus', 'berth-copy.desktop'),
  };
}

/** Quotes one word for sh. */
function shQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function nautilusScript(command: readonly string[], action: 'cid' | 'link'): string {
  const cmd = command.map(shQuote).join(' ');
  return `#!/bin/sh
# ${MARKER}; turning the setting off removes this file.
# Nautilus passes the selection one path per line in NAUTILUS_SCRIPT_SELECTED_FILE_PATHS.
IFS='
'
set -f
[ -n "$NAUTILUS_SCRIPT_SELECTED_FILE_PATHS" ] && set -- $NAUTILUS_SCRIPT_SELECTED_FILE_PATHS
out=$(${cmd} ${action} --copy -- "$@" 2>&1) || {
  command -v notify-send >/dev/null 2>&1 && notify-send -a Berth "Berth could not copy" "$out"
  printf '%s\\n' "$out" >&2
  exit 1
}
`;
}

function dolphinMenu(command: readonly string[]): string {
  // Desktop-entry Exec quoting: arguments with spaces in double quotes, \\ " ` $ escaped.
  const exec = command.map((w) => (/^[A-Za-z0-9_./=-]+$/.test(w) ? w : `"${w.replace(/(["`$\\])/g, '\\$1')}"`)).join(' ');
  return `# ${MARKER}; turning the setting off removes this file.
[Desktop Entry]
Type=Service
MimeType=all/all;
Actions=berthCopyCid;berthCopyLink;
X-KDE-Submenu=Berth

[Desktop Action berthCopyCid]
Name=Copy CID
Icon=edit-copy
Exec=${exec} cid --copy -- %F

[Desktop Action berthCopyLink]
Name=Copy gateway link
Icon=edit-copy
Exec=${exec} link --copy -- %F
`;
}

/** Writes the Nautilus scripts and the Dolphin service menu that run `command` (the berth CLI). Returns the paths written. */
export async function installFileManagerMenu(command: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  if (command.length === 0) throw new Error('no berth command to put in the file manager menu');
  const f = fileManagerMenuFiles(env);
  const files: [string, string][] = [
    [f.nautilusCid, nautilusScript(command, 'cid')],
    [f.nautilusLink, nautilusScript(command, 'link')],
    [f.dolphin, dolphinMenu(command)],
  ];
  for (const [path, text] of files) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text, { mode: 0o755 });
    await chmod(path, 0o755);
  }
  return files.map(([p]) => p);
}

/** Removes the files installFileManagerMenu wrote (only those carrying Berth's marker). Returns the paths removed. */
export async function removeFileManagerMenu(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const removed: string[] = [];
  for (const path of Object.values(fileManagerMenuFiles(env))) {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined || !text.includes(MARKER)) continue;
    await rm(path, { force: true });
    removed.push(path);
  }
  return removed;
}
