// A hard link made, another made, one removed and one renamed over, each followed at once by
// `stat -c %h` of the other names: what a mount shows of a file's link count while its names
// change (issue 9's hard links). Run in a folder of a writable mount.

/** The shell commands, run in `dir` (which must be empty of a, b, c and z). */
export function linkCountScript(dir: string): string {
  return [
    `cd '${dir}'`,
    'printf x > a', 'stat -c %h a',
    'ln a b', 'stat -c %h a b',
    'ln b c', 'stat -c %h a b',
    'rm c', 'stat -c %h a b',
    'printf y > z', 'mv z b', 'stat -c %h a',
  ].join(' && ');
}

/** What the script prints, a line each, where every name shows the new count at once. */
export const LINK_COUNTS = ['1', '2', '2', '3', '3', '2', '2', '1'];
