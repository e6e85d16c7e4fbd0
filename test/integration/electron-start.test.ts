import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRIDGE_CHANNELS, ipcChannel, type BridgeChannel, type PreloadApi } from '../../src-shared/bridge.ts';
import { RENDERER_CSP } from '../../src-shared/csp.ts';
import { berthSandbox, waitFor, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';
import * as electronDouble from '../helpers/electron.ts';

// Issue 7 section 5: `npm start` builds what is stale, then opens the app — or, where
// Electron's binary is not installed (always here), says so in one line and starts the
// daemon with the browser UI, printing the URL. The BUILT bundles are checked too: the
// main process runs (against the electron double) and serves the CLI; the preload
// exposes exactly the contract's channels and requires nothing but 'electron' (a
// sandboxed preload can load nothing else); the page carries the strict CSP.

const ROOT = resolve(import.meta.dirname, '../..');
const START = join(ROOT, 'src-main/cli/start.mjs');

function get(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((res, rej) => {
    request(url, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), body }));
    })
      .on('error', rej)
      .end();
  });
}

describe('npm start and the desktop build', () => {
  let sb: BerthSandbox;
  let noElectron: string;
  beforeAll(async () => {
    sb = await berthSandbox();
    // Wherever this runs, Electron's binary is "not installed": its package looks here.
    noElectron = await mkdtemp(join(tmpdir(), 'berth-no-electron-'));
    const built = spawnSync(process.execPath, ['-e', `import(${JSON.stringify(START)}).then((m) => process.exit(m.buildIfStale() ? 0 : 1))`], { cwd: ROOT, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
  });
  afterAll(async () => {
    await sb.cleanup();
    if (noElectron) await rm(noElectron, { recursive: true, force: true });
  });

  it('without the Electron binary: one line saying so, then the daemon with the browser UI and its URL', async () => {
    const child = spawn(process.execPath, [START, '--ui', '127.0.0.1:0'], { cwd: ROOT, env: { ...sb.env, ELECTRON_OVERRIDE_DIST_PATH: noElectron }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const until = Date.now() + 60_000;
      while (!/Berth in your browser: (\S+)/.test(out)) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`no URL printed:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = /Berth in your browser: (\S+)/.exec(out)![1]!;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{20,}$/);
      const electronLines = err.split('\n').filter((l) => /electron/i.test(l));
      expect(electronLines).toHaveLength(1);
      expect(electronLines[0]).toMatch(/^Electron's binary is not installed here .*starting the daemon with the browser UI instead/);
      const page = await get(url.replace(/#.*$/, ''));
      expect(page.status).toBe(200);
      expect(page.type).toMatch(/text\/html/);
      expect((await sb.client.info()).servedBy).toBe('daemon');
    } finally {
      child.kill('SIGTERM');
    }
    // SIGTERM reaches the daemon once (it runs in its own process group) and it stops cleanly.
    expect(await exited).toBe(0);
    await expect(sb.client.info()).rejects.toThrow(/no Berth daemon is running/);
  });

  it('the built main process (out/main/index.js) hosts the service the CLI drives, and SIGTERM unmounts and exits', async (ctx) => {
    if (missingFuse()) return ctx.skip();
    const child = spawn(process.execPath, ['--import', 'tsx/esm', join(ROOT, 'test/helpers/runBuiltMain.mjs'), join(ROOT, 'out/main/index.js'), join(sb.base, 'userData')], {
      cwd: ROOT,
      env: { ...sb.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const mp = await sb.dir('mnt-built');
    try {
      await waitFor(async () => (await sb.client.info()).pid === child.pid, 30_000, `the built app's socket:\n${out}`);
      expect(await sb.client.info()).toMatchObject({ servedBy: 'app' });
      const src = await sb.dir('src-built');
      await writeFile(join(src, 'f.txt'), 'built\n');
      const mounted = await sb.run(['mount', 'fuse', 'local', '--path', src, mp]);
      expect(mounted.code, mounted.stderr).toBe(0);
      expect(await readFile(join(mp, 'f.txt'), 'utf8')).toBe('built\n');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, out).toBe(0);
    expect(fuseMounts()).not.toContain(mp);
    const line = /built-main-window (.*)/.exec(out)?.[1];
    const win = JSON.parse(line ?? '{}') as { preload?: string; loaded?: { file?: string } };
    expect(win.preload).toBe(join(ROOT, 'out/preload/index.cjs'));
    expect(win.loaded?.file).toBe(join(ROOT, 'out/renderer/index.html'));
    expect(out).toMatch(/hosting the mount service on/);
  });

  it('the built preload exposes exactly the contract and requires nothing but electron', async () => {
    const code = await readFile(join(ROOT, 'out/preload/index.cjs'), 'utf8');
    electronDouble.electronDouble.reset();
    const required: string[] = [];
    const sandboxRequire = (id: string) => {
      required.push(id);
      if (id === 'electron') return electronDouble;
      throw new Error(`a sandboxed preload cannot require ${id}`);
    };
    const module = { exports: {} };
    runInNewContext(`(function (require, module, exports) {${code}\n})`, { Object })(sandboxRequire, module, module.exports);
    expect(required).toEqual(['electron']);
    const berth = electronDouble.contextBridge.exposed.berth as PreloadApi;
    expect(Object.keys(electronDouble.contextBridge.exposed)).toEqual(['berth']);
    expect(Object.keys(berth).sort()).toEqual([...Object.keys(BRIDGE_CHANNELS), 'kind', 'capabilities', 'snapshot', 'onEvent'].sort());
    await berth.unmountAll({ level: 'short' });
    expect(electronDouble.ipcRenderer.invoked.at(-1)).toEqual({ channel: ipcChannel('unmountAll' as BridgeChannel), args: [{ level: 'short' }] });
    // The bundle holds channel names, not the contract's schemas.
    expect(code).not.toMatch(/zod|ZodError/);
  });

  it('the built page carries the strict CSP: no inline or remote script, no Node', async () => {
    const html = await readFile(join(ROOT, 'out/renderer/index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html);
    // The attribute as the browser reads it (the build writes ' as &#39;).
    const csp = meta?.[1]?.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    expect(csp).toBe(RENDERER_CSP);
    expect(RENDERER_CSP).toMatch(/default-src 'none'/);
    expect(RENDERER_CSP).toMatch(/script-src 'self'(;|$)/);
    expect(RENDERER_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
  });
});
