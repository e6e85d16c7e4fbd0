// Run as a child process by issue-8-fuse-teardown.test.ts: mounts `count` local-guest FUSE
// mounts, then unmounts them all while `loops` loops keep running commands the way Berth
// runs them (runCommand.ts), `rounds` times. Prints "round N" after each round and "done";
// a process that gets SIGCHLD while its FUSE sessions end hangs instead (see runCommand.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { fuseHost } from '../../src-main/hosts/fuse.ts';
import { runCommand } from '../../src-main/sys/runCommand.ts';
import { wrapGuest } from '../../src-main/vfs/wrapGuest.ts';

const [count, rounds, loops] = process.argv.slice(2).map(Number) as [number, number, number];
const base = mkdtempSync(join(process.env.STORM_BASE ?? tmpdir(), 'berth-storm-'));
const src = join(base, 'src');
mkdirSync(src);
writeFileSync(join(src, 'x'), 'x');
console.log(`base ${base}`);
for (let r = 0; r < rounds; r++) {
  const hosts = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const mp = join(base, `m${r}-${i}`);
      mkdirSync(mp);
      return fuseHost.mount(wrapGuest(await openLocalGuest({ kind: 'local', path: src, readOnly: true })), mp, {});
    }),
  );
  let storm = true;
  const running = Array.from({ length: loops }, async () => {
    while (storm) await runCommand('true', []);
  });
  await Promise.all(hosts.map((h) => h.unmount()));
  storm = false;
  await Promise.all(running);
  console.log(`round ${r}`);
}
rmSync(base, { recursive: true, force: true });
console.log('done');
process.exit(0);
