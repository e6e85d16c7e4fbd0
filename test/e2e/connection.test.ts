import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { berthSandbox, missingLauncher, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';
import { launchBrowser, missingChromium, watchPage, type PageProblems, type TestBrowser } from './helpers/browser.ts';
import { startUiDaemon, stopDaemon, type UiDaemon } from './helpers/uiDaemon.ts';

// The browser face and its daemon: a page opened without the token explains how to get
// it; a page whose token the daemon refuses says so; and a page open while the daemon
// restarts shows the loss, then reconnects by itself with a fresh snapshot.

const skip = missingLauncher() ?? missingFuse() ?? missingChromium();

describe.skipIf(skip)('browser face: the connection to the daemon', () => {
  let sb: BerthSandbox;
  let daemon: UiDaemon;
  let browser: TestBrowser;

  beforeAll(async () => {
    sb = await berthSandbox();
    daemon = await startUiDaemon(sb);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    if (daemon) await stopDaemon(daemon).catch(() => undefined);
    await sb?.cleanup();
    expect(fuseMounts().filter((m) => sb && m.startsWith(sb.base))).toEqual([]);
  });

  it('a page without the token shows how to get one, and asks the API nothing', async () => {
    const page = await browser.context.newPage();
    const problems = await watchPage(page);
    const api: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/v1/')) api.push(r.url());
    });
    await page.goto(`${daemon.origin}/`);
    await page.getByRole('heading', { name: 'This page needs the address Berth printed' }).waitFor();
    await page.getByText('berth daemon --ui 127.0.0.1:5050').waitFor();
    await page.getByText('npm start').waitFor();
    expect(api).toEqual([]);
    expect(problems.list()).toEqual([]);
    await page.close();
  });

  it('a token the daemon refuses is forgotten, and the page says so', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${daemon.origin}/#token=${'x'.repeat(43)}`);
    await page.getByRole('alert').getByText(/refused this page’s token/).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('berth.token'))).toBeNull();
    await page.reload();
    await page.getByRole('heading', { name: 'This page needs the address Berth printed' }).waitFor();
    await page.close();
  });

  describe('a daemon restart', () => {
    let page: Page;
    let problems: PageProblems;
    let mp: string;

    beforeAll(async () => {
      const src = await sb.dir('src');
      await writeFile(join(src, 'f.txt'), 'x');
      mp = join(sb.base, 'mnt');
      await sb.dir('mnt');
      await sb.client.add({ name: 'kept', host: { kind: 'fuse', mountpoint: mp }, guest: { kind: 'local', path: src } });
      page = await browser.context.newPage();
      problems = await watchPage(page);
      await page.goto(daemon.url);
    });

    it('shows the loss, then reconnects by itself with a fresh snapshot', async () => {
      const chip = page.getByRole('table', { name: 'Mounts' }).getByRole('row').filter({ hasText: 'kept' }).locator('.chip');
      await expect.poll(() => chip.textContent()).toBe('mounted');
      const port = daemon.port;
      const token = daemon.token;
      await stopDaemon(daemon);
      const banner = page.getByRole('alert');
      await banner.getByText('Lost the connection to Berth.').waitFor({ timeout: 15_000 });
      await banner.getByText(/daemon was stopped|Cannot reach Berth’s daemon/).waitFor();
      // Shut down, the daemon unmounted everything and said so before it went.
      await expect.poll(() => chip.textContent()).toBe('unmounted');

      // While it is away the table changes on disk: the page must show the new daemon's word.
      const file = join(sb.configDir, 'mounts.json');
      const data = JSON.parse(await readFile(file, 'utf8')) as { mounts: { name?: string }[] };
      data.mounts[0]!.name = 'kept (renamed)';
      await writeFile(file, JSON.stringify(data));
      daemon = await startUiDaemon(sb, port);
      expect(daemon.token).toBe(token);
      await banner.waitFor({ state: 'detached', timeout: 20_000 });
      await page.getByRole('switch', { name: 'Mount kept (renamed)' }).waitFor();
      // The restored auto-mount comes back mounted, from the new daemon's snapshot and events.
      await expect.poll(() => chip.textContent(), { timeout: 30_000 }).toBe('mounted');
      // While the daemon was down the page's requests failed; after it came back, none did.
      expect(problems.list().every((p) => /request failed|ERR_CONNECTION_REFUSED/.test(p))).toBe(true);
    });

    it('and the reconnected page can act again', async () => {
      problems.clear();
      const row = page.getByRole('table', { name: 'Mounts' }).getByRole('row').filter({ hasText: 'kept' });
      await row.getByRole('switch', { name: 'Mount kept (renamed)' }).click();
      await expect.poll(() => row.locator('.chip').textContent(), { timeout: 30_000 }).toBe('unmounted');
      expect((await sb.client.list())[0]?.state).toBe('unmounted');
      expect(problems.list()).toEqual([]);
    });
  });
});
