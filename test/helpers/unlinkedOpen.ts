// A file unlinked while open, used through its descriptors as POSIX allows: write, fstat
// (with no links left), ftruncate, fchmod, futimens and pread after the unlink, a second descriptor closed first
// (the first must carry on alone), then a new file made at the old name, which must be
// another file. Run by a Node child process in a folder of a writable mount (the test's
// own process may be the one serving it).

/** The script for `node -e`; argv[1] is the folder. It prints one JSON line (UNLINKED_OPEN). */
export const UNLINKED_OPEN_SCRIPT = [
  "const fs = require('node:fs');",
  'const p = process.argv[1];',
  "const fd = fs.openSync(p + '/held', 'w+', 0o644);",
  "fs.writeSync(fd, 'data');",
  "const later = fs.openSync(p + '/held', 'r');",
  "fs.unlinkSync(p + '/held');",
  'fs.closeSync(later);',
  "fs.writeSync(fd, 'more');",
  'const out = { size: fs.fstatSync(fd).size, links: fs.fstatSync(fd).nlink };',
  'fs.ftruncateSync(fd, 2);',
  'out.truncated = fs.fstatSync(fd).size;',
  'fs.fchmodSync(fd, 0o600);',
  'fs.futimesSync(fd, 1000, 2000);',
  'const s = fs.fstatSync(fd);',
  'out.mode = (s.mode & 0o7777).toString(8);',
  'out.mtime = s.mtimeMs;',
  'const b = Buffer.alloc(10);',
  'out.read = b.subarray(0, fs.readSync(fd, b, 0, 10, 0)).toString();',
  "out.gone = !fs.readdirSync(p).includes('held');",
  "fs.writeFileSync(p + '/held', 'a new file');",
  "out.newSize = fs.statSync(p + '/held').size;",
  'out.oldSize = fs.fstatSync(fd).size;',
  'fs.closeSync(fd);',
  'console.log(JSON.stringify(out));',
].join('\n');

/** What the script prints where the file stays usable. */
export const UNLINKED_OPEN = { size: 8, links: 0, truncated: 2, mode: '600', mtime: 2_000_000, read: 'da', gone: true, newSize: 10, oldSize: 2 };
