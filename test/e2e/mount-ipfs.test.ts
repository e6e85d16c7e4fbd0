import { execFileSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { berthSandbox, missingLauncher, type BerthSandbox } from '../helpers/berthDaemon.ts';
import type { IpfsPeer } from '../helpers/ipfsPeer.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';
import { launchBrowser, missingChromium, readClipboard, watchPage, type PageProblems, type TestBrowser } from './helpers/browser.ts';
import { addSite, missingPeer, SITE_FILES, startPeer, type Site } from './helpers/site.ts';
import { fuseMountedAt, savedMounts, startUiDaemon, stopDaemon, waitForState, type UiDaemon } from './helpers/uiDaemon.ts';

// The browser face end to end, as a person uses it: Chromium on the page `berth daemon
// --ui` serves, a real daemon with real FUSE mounts of a js-ipfs peer's content. Every
// control is found by its role and accessible name, as a screen reader would.

const skip = missingLauncher() ?? missingFuse() ?? missingPeer() ?? missingChromium();

describe.skipIf(skip)('browser face: IPFS mounts end to end', () => {
  let sb: BerthSandbox;
  let peer: IpfsPeer;
  let site: Site;
  let daemon: UiDaemon;
  let browser: TestBrowser;
  let page: Page;
  let problems: PageProblems;
  let folder: string;

  const row = (name: string) => page.getByRole('table', { name: 'Mounts' }).getByRole('row').filter({ has: page.getByRole('switch', { name: `Mount ${name}`, exact: true }) });
  const chip = (name: string) => row(name).locator('.chip');

  beforeAll(async () => {
    sb = await berthSandbox();
    peer = await startPeer();
    site = await addSite(peer.client);
    folder = join(sb.base, 'Berth');
    daemon = await startUiDaemon(sb);
    browser = await launchBrowser({ clipboardOrigin: daemon.origin });
    page = await browser.context.newPage();
    problems = await watchPage(page);
    await page.goto(daemon.url);
  });
  afterAll(async () => {
    await browser?.close();
    if (daemon) await stopDaemon(daemon).catch(() => undefined);
    await sb?.cleanup();
    await peer?.stop();
    expect(fuseMounts().filter((m) => sb && m.startsWith(sb.base))).toEqual([]);
  });

  it('takes the token from the address, hides it, and shows the empty table', async () => {
    await expect.poll(() => page.url()).toBe(`${daemon.origin}/`);
    await page.getByText('No mounts yet.').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('berth.token'))).toBe(daemon.token);
  });

  it('settings: the node address and mount folder save, and the live line says it is connected', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Settings' });
    await dialog.getByRole('radio', { name: 'Use this address' }).check();
    await dialog.getByRole('textbox', { name: 'Node address' }).fill(peer.apiMultiaddr);
    await dialog.getByRole('textbox', { name: 'Default mount folder' }).fill(folder);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    const settings = await sb.client.settings();
    expect(settings).toMatchObject({ ipfsNode: peer.apiMultiaddr, mountFolder: folder });
    const port = peer.apiMultiaddr.split('/').at(-1);
    await page.getByText(new RegExp(`IPFS: js-ipfs/\\S+ at 127\\.0\\.0\\.1:${port}`)).waitFor();
    await page.getByRole('button', { name: 'Settings' }).click();
    await expect.poll(() => dialog.getByRole('status').textContent()).toMatch(/Connected to js-ipfs/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  it('adds a mount through the dialog; it turns mounted and its files are on disk', async () => {
    await page.getByRole('button', { name: 'Add mount' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add mount' });
    await dialog.getByRole('textbox', { name: 'Source' }).fill(`https://dweb.link/ipfs/${site.rootCid}`);
    await dialog.getByText(/IPFS bafy…\w{4} \(from a gateway link\)/).waitFor();
    const name = dialog.getByRole('textbox', { name: 'Name' });
    expect(await name.inputValue()).toMatch(/^bafy…/);
    await name.fill('Site docs');
    expect(await dialog.getByRole('textbox', { name: 'Mount point' }).inputValue()).toBe(join(folder, 'Site docs'));
    await dialog.getByRole('button', { name: 'Mount', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => chip('Site docs').textContent(), { timeout: 30_000 }).toBe('mounted');
    expect(await row('Site docs').getByRole('switch').getAttribute('aria-checked')).toBe('true');
    const mp = join(folder, 'Site docs');
    expect(await readFile(join(mp, 'hello.txt'), 'utf8')).toBe(SITE_FILES['site/hello.txt']);
    expect((await readdir(mp)).sort()).toEqual(['docs', 'hello.txt', 'index.html']);
  });

  it('"Copy CID", "Copy gateway link" and "Copy ipfs:// link" put the peer\'s CID and links on the clipboard', async () => {
    const menuItem = async (item: string) => {
      await row('Site docs').getByRole('button', { name: 'More actions' }).click();
      await page.getByRole('menu').getByRole('menuitem', { name: item }).click();
    };
    await menuItem('Copy CID');
    await page.getByRole('status').getByText('Copied').waitFor();
    await expect.poll(() => readClipboard(page)).toBe(site.rootCid);
    await page.getByRole('status').getByText(site.rootCid).waitFor();

    await menuItem('Copy gateway link');
    await expect.poll(() => readClipboard(page)).toBe(`http://127.0.0.1:8080/ipfs/${site.rootCid}`);

    await menuItem('Copy ipfs:// link');
    await expect.poll(() => readClipboard(page)).toBe(`ipfs://${site.rootCid}`);

    // The toast goes after 2 s.
    await page.getByRole('status').getByText('Copied').first().waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('the details pane browses the mount through the guest, with each file\'s CID and Copy buttons', async () => {
    await row('Site docs').getByRole('cell', { name: 'Site docs', exact: true }).click();
    const pane = page.getByRole('complementary', { name: 'Site docs' });
    const files = pane.getByRole('table', { name: 'Files in Site docs' });
    await files.getByRole('row').filter({ hasText: 'hello.txt' }).waitFor();
    const helloCid = site.cids.get('site/hello.txt')!;
    await files.getByRole('button', { name: 'Copy CID of hello.txt' }).click();
    await expect.poll(() => readClipboard(page)).toBe(helloCid);
    await files.getByRole('button', { name: 'Copy gateway link of hello.txt' }).click();
    await expect.poll(() => readClipboard(page)).toBe(`http://127.0.0.1:8080/ipfs/${helloCid}?filename=hello.txt`);

    // Into a folder, and the same menu from a file's own row (right-click).
    await files.getByRole('button', { name: 'docs', exact: true }).click();
    const docs = pane.getByRole('table', { name: 'Files in Site docs/docs' });
    const readme = docs.getByRole('row').filter({ hasText: 'readme.txt' });
    await readme.click({ button: 'right' });
    await page.getByRole('menu', { name: 'Actions for readme.txt' }).getByRole('menuitem', { name: 'Copy CID' }).click();
    await expect.poll(() => readClipboard(page)).toBe(site.cids.get('site/docs/readme.txt'));
    await pane.getByRole('button', { name: 'Close details' }).click();
  });

  it('a dropped ipfs:// link opens the add dialog prefilled, and one click mounts it', async () => {
    const docsCid = site.cids.get('site/docs')!;
    await page.evaluate((link) => {
      const dt = new DataTransfer();
      dt.setData('text/uri-list', link);
      dt.setData('text/plain', link);
      document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
      document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, `ipfs://${docsCid}`);
    await page.getByText('Drop to mount').waitFor();
    await page.evaluate((link) => {
      const dt = new DataTransfer();
      dt.setData('text/uri-list', link);
      dt.setData('text/plain', link);
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, `ipfs://${docsCid}`);
    const dialog = page.getByRole('dialog', { name: 'Add mount' });
    expect(await dialog.getByRole('textbox', { name: 'Source' }).inputValue()).toBe(`ipfs://${docsCid}`);
    await dialog.getByText('(from a native link)').waitFor();
    const short = `${docsCid.slice(0, 4)}…${docsCid.slice(-4)}`;
    expect(await dialog.getByRole('textbox', { name: 'Name' }).inputValue()).toBe(short);
    expect(await dialog.getByRole('textbox', { name: 'Mount point' }).inputValue()).toBe(join(folder, `${docsCid.slice(0, 4)}-${docsCid.slice(-4)}`));
    await dialog.getByRole('button', { name: 'Mount', exact: true }).click();
    await expect.poll(() => chip(short).textContent(), { timeout: 30_000 }).toBe('mounted');
    const mp = join(folder, `${docsCid.slice(0, 4)}-${docsCid.slice(-4)}`);
    expect(await readFile(join(mp, 'readme.txt'), 'utf8')).toBe(SITE_FILES['site/docs/readme.txt']);
    // A new mount opens its details; Esc closes them and gives the table its columns back.
    await page.getByRole('complementary', { name: short }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('complementary').waitFor({ state: 'detached' });
  });

  it('the switch unmounts and mounts again', async () => {
    const mp = join(folder, 'Site docs');
    await row('Site docs').getByRole('switch', { name: 'Mount Site docs' }).click();
    await expect.poll(() => chip('Site docs').textContent(), { timeout: 30_000 }).toBe('unmounted');
    expect(fuseMountedAt(mp)).toBe(false);
    await row('Site docs').getByRole('switch', { name: 'Mount Site docs' }).click();
    await expect.poll(() => chip('Site docs').textContent(), { timeout: 30_000 }).toBe('mounted');
    expect(fuseMountedAt(mp)).toBe(true);
  });

  it('editing a mounted mount saves and remounts it at its new place', async () => {
    const before = join(folder, 'Site docs');
    const after = join(folder, 'site-renamed');
    await row('Site docs').click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Edit…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit mount' });
    expect(await dialog.getByRole('textbox', { name: 'Source' }).inputValue()).toBe(`/ipfs/${site.rootCid}`);
    await dialog.getByRole('textbox', { name: 'Name' }).fill('Site');
    await dialog.getByRole('textbox', { name: 'Mount point' }).fill(after);
    await dialog.getByRole('button', { name: 'Save and remount' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 30_000 });
    await expect.poll(() => chip('Site').textContent(), { timeout: 30_000 }).toBe('mounted');
    expect(await row('Site').getByRole('cell', { name: after }).count()).toBe(1);
    expect(fuseMountedAt(after)).toBe(true);
    expect(fuseMountedAt(before)).toBe(false);
    expect(await readFile(join(after, 'index.html'), 'utf8')).toBe(SITE_FILES['site/index.html']);
    expect((await savedMounts(sb)).find((m) => m.name === 'Site')?.host.mountpoint).toBe(after);
  });

  it('an external `fusermount -u` shows in the row within a few seconds', async () => {
    const mp = join(folder, 'site-renamed');
    execFileSync('fusermount', ['-u', mp]);
    // The row says what the daemon says: stale (unmounted outside Berth), with the reason under it.
    await expect.poll(() => chip('Site').textContent(), { timeout: 15_000 }).toBe('stale — cleaning up');
    expect((await waitForState(sb, (m) => m.spec.name === 'Site', 'the mount')).state).toBe('stale');
    await page.getByRole('table', { name: 'Mounts' }).getByText(/was unmounted outside Berth/).waitFor();
    await page.getByRole('button', { name: 'Mount again' }).click();
    await expect.poll(() => chip('Site').textContent(), { timeout: 30_000 }).toBe('mounted');
  });

  it('remove asks first, says it also unmounts, and forgets the mount', async () => {
    const mp = join(folder, 'site-renamed');
    await row('Site').getByRole('button', { name: 'More actions' }).click();
    await page.getByRole('menuitem', { name: 'Remove…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove Site?' });
    await dialog.getByText(/removing it also unmounts it/).waitFor();
    await dialog.getByRole('button', { name: 'Unmount and remove' }).click();
    await row('Site').waitFor({ state: 'detached', timeout: 30_000 });
    expect(fuseMountedAt(mp)).toBe(false);
    expect((await sb.client.list()).some((m) => m.spec.name === 'Site')).toBe(false);
    expect((await savedMounts(sb)).some((m) => m.name === 'Site')).toBe(false);
  });

  it('a node that goes away shows as "mounted · node unreachable" with the fix, until it is back', async () => {
    const docsCid = site.cids.get('site/docs')!;
    const short = `${docsCid.slice(0, 4)}…${docsCid.slice(-4)}`;
    await expect.poll(() => chip(short).textContent()).toBe('mounted');
    await peer.kill();
    try {
      await expect.poll(() => chip(short).textContent(), { timeout: 30_000 }).toBe('mounted · node unreachable');
      await page.getByRole('table', { name: 'Mounts' }).getByText(/start Kubo/).waitFor();
    } finally {
      await peer.start();
    }
    await expect.poll(() => chip(short).textContent(), { timeout: 30_000 }).toBe('mounted');
  });

  it('ran without console errors or CSP violations', () => {
    expect(problems.list()).toEqual([]);
  });
});
