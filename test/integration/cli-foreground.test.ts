import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src-main/cli/main.ts';
import { unmountFuse } from '../../src-main/hosts/fuseUnmount.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

const LAUNCHER = join(import.meta.dirname, '../../src-main/cli/berth.cjs');

/** Runs `berth args` to completion. */
function berth(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LAUNCHER, ...args], { timeout: 110_000, env }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

/** Resolves once `text` appears on the child's stdout; rejects if it exits first. */
function waitFor(child: ChildProcess, text: string, log: { out: string; err: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (log.out.includes(text)) resolve();
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`berth exited with ${code} before "${text}": ${log.err}`)));
    check();
  });
}

function cat(path: string): Promise<string> {
  return new Promise((resolve, reject) => execFile('cat', [path], (e, out) => (e ? reject(e) : resolve(out))));
}

describe('berth CLI: usage', () => {
  it('answers --help at every level with exit 0', async () => {
    const top = await berth(['--help']);
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/usage: berth <command>/);
    expect(top.out).toMatch(/mount/);
    const m = await berth(['mount', '--help']);
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/--ipfs-api <multiaddr>/);
    expect((await berth(['help', 'mount'])).out).toBe(m.out);
  });

  it('exits 2 with a message on bad usage', async () => {
    const cases: [string[], RegExp][] = [
      [[], /usage: berth/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['mount', 'fuse', 'ipfs'], /expected <host> <guest> <target>/],
      [['mount', 'ftp', 'ipfs', '/mnt/x'], /unknown host "ftp": expected fuse or nfs/],
      [['mount', 'fuse', 'gopher', '/mnt/x'], /unknown guest "gopher"/],
      [['mount', 'fuse', 'ipfs', '--timeout', 'soon', '/mnt/x'], /--timeout: invalid duration "soon"/],
      [['mount', 'fuse', 'ipfs', '--bogus', '/mnt/x'], /Unknown option '--bogus'/],
      [['mount', 'fuse', 'ipfs', 'relative/dir'], /host\.mountpoint: expected an absolute path/],
      [['mount', 'fuse', 'local', '/mnt/x'], /needs --path/],
      [['mount', 'fuse', 'ipfs', '--ipfs-api', 'localhost:5001', '/mnt/x'], /guest\.node/],
      [['mount', 'fuse', 'local', '--path', '/tmp', '--read-only', '--rw', '/mnt/x'], /contradict/],
      [['mount', 'fuse', 'local', '--path', '/tmp', '--uid', 'root', '/mnt/x'], /--uid: expected a numeric id/],
    ];
    // Every case through main() in this process (fast), a few through the real bin (exit codes).
    for (const [args, msg] of cases) {
      let text = '';
      const write = (chunk: string | Uint8Array): boolean => ((text += String(chunk)), true);
      const spies = [vi.spyOn(process.stderr, 'write').mockImplementation(write), vi.spyOn(process.stdout, 'write').mockImplementation(write)];
      let code: number;
      try {
        code = await main(args);
      } finally {
        for (const s of spies) s.mockRestore();
      }
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(text).toMatch(msg);
    }
    for (const i of [1, 6, 10]) {
      const [args, msg] = cases[i]!;
      const r = await berth(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err + r.out).toMatch(msg);
    }
  });
});

const skip = missingFuse();

describe.skipIf(skip)('berth mount (foreground) with a real FUSE mount', () => {
  let base: string;
  let src: string;
  let mnt: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'berth-cli-'));
    src = join(base, 'src');
    mnt = join(base, 'mnt');
    mkdirSync(src);
    mkdirSync(mnt);
    writeFileSync(join(src, 'hello.txt'), 'hello from the cli\n');
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const p of fuseMounts().filter((p) => p.startsWith(base))) await unmountFuse(p, 'immediate', { graceMs: 0 }).catch(() => {});
    rmSync(base, { recursive: true, force: true });
  });

  it('mounts, serves reads, and unmounts on SIGINT with exit 0', async () => {
    const log = { out: '', err: '' };
    const child = spawn(process.execPath, [LAUNCHER, 'mount', 'fuse', 'local', '--path', src, '--timeout', '10s', mnt, '--foreground']);
    children.push(child);
    child.stdout.on('data', (d: Buffer) => (log.out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log.err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor(child, `mounted local ${src} at ${mnt}`, log);
    expect(fuseMounts()).toContain(mnt);
    expect(await cat(join(mnt, 'hello.txt'))).toBe('hello from the cli\n');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(log.out).toMatch(/unmounted/);
    expect(fuseMounts()).not.toContain(mnt);
  });

  it('a Ctrl-C while the mount comes up still ends unmounted, with exit 0', async () => {
    const log = { out: '', err: '' };
    const child = spawn(process.execPath, [LAUNCHER, 'mount', 'fuse', 'local', '--path', src, mnt, '--foreground']);
    children.push(child);
    child.stdout.on('data', (d: Buffer) => (log.out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log.err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // SIGINT the moment the kernel lists the mount: before the mount call returned to berth.
    const listed = ` ${mnt} `;
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (readFileSync('/proc/self/mountinfo', 'utf8').includes(listed)) {
          clearInterval(poll);
          child.kill('SIGINT');
          resolve();
        } else if (child.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`berth exited before mounting: ${log.err}`));
        }
      }, 1);
    });
    expect(await exited, log.err).toBe(0);
    expect(log.out).toMatch(/unmounting .* \(SIGINT\)/);
    expect(fuseMounts()).not.toContain(mnt);
  });

  it('fails with exit 1 and a clear message when the mount point is missing', async () => {
    const r = await berth(['mount', 'fuse', 'local', '--foreground', '--path', src, join(base, 'missing')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/mount point .*missing does not exist/);
    expect(fuseMounts().filter((p) => p.startsWith(base))).toEqual([]);
  });

  it('fails with exit 1, saying what it expected, when BERTH_FUSE_SPIN_US is not a number of microseconds', async () => {
    const r = await berth(['mount', 'fuse', 'local', '--foreground', '--path', src, mnt], { ...process.env, BERTH_FUSE_SPIN_US: 'fast' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('BERTH_FUSE_SPIN_US: expected a whole number of microseconds from 0 to 10000, got "fast"');
    expect(fuseMounts()).not.toContain(mnt);
  });

  it('ends with exit 0 when unmounted from outside', async () => {
    const log = { out: '', err: '' };
    const child = spawn(process.execPath, [LAUNCHER, 'mount', 'fuse', 'local', '-f', '--path', src, mnt]);
    children.push(child);
    child.stdout.on('data', (d: Buffer) => (log.out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log.err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor(child, 'mounted', log);
    await unmountFuse(mnt, 'short', { graceMs: 0 });
    expect(await exited).toBe(0);
    expect(log.out).toMatch(/unmounted from outside/);
  });

  it('unmounts on SIGTERM even while a file is held open (lazy fallback)', async () => {
    const log = { out: '', err: '' };
    const child = spawn(process.execPath, [LAUNCHER, 'mount', 'fuse', 'local', '-f', '--path', src, mnt]);
    children.push(child);
    child.stdout.on('data', (d: Buffer) => (log.out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log.err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor(child, 'mounted', log);
    // A shell whose working folder is inside the mount keeps it busy.
    const holder = spawn('sh', ['-c', 'sleep 60'], { cwd: mnt, stdio: 'ignore' });
    try {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(log.out).toMatch(/unmounting .* \(SIGTERM\)/);
      expect(fuseMounts()).not.toContain(mnt);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
