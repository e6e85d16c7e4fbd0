import { chmodSync, closeSync, constants as C, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attrOfNs, attrOfRaw } from '../src-main/guests/localAttrs.ts';
import { callOrThrow, fchmodatNoFollow, libc, linkText, parseStat, PATH_MAX, PLATFORM, statSize } from '../src-main/guests/localLibc.ts';

// Profiling aid (not part of `npm run bench`): what one inline call of the local guest's
// /proc strategy costs on this thread, made the two ways localProcPaths.ts can make it —
// by a path through the folder descriptor's /proc/self/fd link (Node's fs), or by libc's
// *at call on the descriptor itself (koffi) — on 100 files of a folder under $TMPDIR; a
// listing by Node's readdirSync through the link, or by getdents64 on a descriptor opened at
// "." of the folder's (localLibc.ts names).
// Rounds alternate the forms; the median of the rounds is printed, µs per call.
// Usage: npx tsx bench/localAtCalls.ts [calls per round, default 20000] [rounds, default 7]

const ops = libc();
const P = PLATFORM;
if (!ops || !P || process.platform !== 'linux') throw new Error('needs Linux, koffi and libc');
const n = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 7);
const O_PATH = 0o10000000;
const shown = { uid: undefined, gid: undefined };
const work = mkdtempSync(join(tmpdir(), 'berth-atcalls-'));
try {
  mkdirSync(join(work, 'd'));
  for (let i = 0; i < 100; i++) writeFileSync(join(work, 'd', `f${i}`), 'x');
  symlinkSync('f0', join(work, 'd', 'ln'));
  const fd = openSync(join(work, 'd'), O_PATH | C.O_DIRECTORY);
  const link = `/proc/self/fd/${fd}`;
  // A folder of 6 entries, as most of an untarred tree's are, for the listing row.
  mkdirSync(join(work, 's'));
  for (let i = 0; i < 6; i++) writeFileSync(join(work, 's', `some-file-${i}.txt`), 'x');
  const small = openSync(join(work, 's'), O_PATH | C.O_DIRECTORY);
  const nofollow = P.AT_SYMLINK_NOFOLLOW;
  let k = 0;
  const name = (): string => `f${k++ % 100}`;
  const pairs: [string, () => unknown, () => unknown][] = [
    ['lstat of a name', () => attrOfNs(lstatSync(`${link}/${name()}`, { bigint: true }), shown), () => attrOfRaw(parseStat(ops.call('fstatat', [fd, name(), null, nofollow], statSize())[2]!), shown)],
    ['lstat of no such name', () => lstatSync(`${link}/none${k++ % 100}`, { bigint: true, throwIfNoEntry: false }), () => ops.call('fstatat', [fd, `none${k++ % 100}`, null, nofollow], statSize())],
    ['open and close', () => closeSync(openSync(`${link}/${name()}`, C.O_RDWR | C.O_NOFOLLOW | C.O_NONBLOCK)), () => closeSync(ops.call('openat', [fd, name(), C.O_RDWR | C.O_NOFOLLOW | C.O_NONBLOCK | P.O_CLOEXEC, 'uint32_t', 0], 0)[0])],
    [
      'chmod, never followed',
      () => {
        const f = openSync(`${link}/${name()}`, O_PATH | C.O_NOFOLLOW);
        chmodSync(`/proc/self/fd/${f}`, k & 1 ? 0o644 : 0o640);
        closeSync(f);
      },
      () => fchmodatNoFollow(ops, fd, name(), k & 1 ? 0o644 : 0o640),
    ],
    [
      'names, 6-entry folder',
      () => readdirSync(`/proc/self/fd/${small}`),
      () => ops.names(callOrThrow(ops, 'openat', [small, '.', C.O_RDONLY | C.O_DIRECTORY | P.O_CLOEXEC, 'uint32_t', 0])[0])[0],
    ],
    ['readlink', () => readlinkSync(`${link}/ln`), () => linkText(callOrThrow(ops, 'readlinkat', [fd, 'ln', null, PATH_MAX], PATH_MAX))],
    [
      'rename there and back',
      () => {
        const f = name();
        renameSync(`${link}/${f}`, `${link}/moved`);
        renameSync(`${link}/moved`, `${link}/${f}`);
      },
      () => {
        const f = name();
        callOrThrow(ops, 'renameat', [fd, f, fd, 'moved']);
        callOrThrow(ops, 'renameat', [fd, 'moved', fd, f]);
      },
    ],
    [
      'link and unlink',
      () => {
        linkSync(`${link}/${name()}`, `${link}/hard`);
        unlinkSync(`${link}/hard`);
      },
      () => {
        callOrThrow(ops, 'linkat', [fd, name(), fd, 'hard', 0]);
        callOrThrow(ops, 'unlinkat', [fd, 'hard', 0]);
      },
    ],
  ];
  const times = pairs.map(() => [[] as number[], [] as number[]]);
  for (let r = 0; r < rounds; r++) {
    pairs.forEach(([, byLink, byAt], i) => {
      const forms = r & 1 ? [byAt, byLink] : [byLink, byAt];
      for (const form of forms) {
        const t0 = performance.now();
        for (let j = 0; j < n; j++) form();
        times[i]![form === byLink ? 0 : 1]!.push(((performance.now() - t0) * 1000) / n);
      }
    });
  }
  closeSync(fd);
  closeSync(small);
  const median = (v: number[]): number => v.sort((a, b) => a - b)[v.length >> 1]!;
  console.log(`${n} calls per round, ${rounds} rounds, median µs per call`);
  console.log(`${'call'.padEnd(24)} ${'by /proc link'.padStart(14)} ${'by *at call'.padStart(12)}`);
  pairs.forEach(([what], i) => console.log(`${what.padEnd(24)} ${median(times[i]![0]!).toFixed(2).padStart(14)} ${median(times[i]![1]!).toFixed(2).padStart(12)}`));
} finally {
  rmSync(work, { recursive: true, force: true });
}
