import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { berthSandbox, missingLauncher, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';
import { launchBrowser, missingChromium, watchPage, type PageProblems, type TestBrowser } from './helpers/browser.ts';
import { fuseMountedAt, savedMounts, startUiDaemon, stopDaemon, type UiDaemon } from './helpers/uiDaemon.ts';

// The add dialog refusing bad input in the shared schema's words (and saving nothing),
// the whole table from the keyboard, an unusable drop, settings errors and notices, on a
// real daemon with local folders mounted through FUSE.

const skip = missingLauncher() ?? missingFuse() ?? missingChromium();

describe.skipIf(skip)('browser face: the form, the keyboard, notices', () => {
  let sb: BerthSandbox;
  let daemon: UiDaemon;
  let browser: TestBrowser;
  let page: Page;
  let problems: PageProblems;
  let folder: string;
  let docs: string;

  const row = (name: string) => page.getByRole('table', { name: 'Mounts' }).getByRole('row').filter({ has: page.getByRole('switch', { name: `Mount ${name}`, exact: true }) });
  const chip = (name: string) => row(name).locator('.chip');
  const focusedLabel = () => page.evaluate(() => document.activeElement?.id ? document.querySelector(`label[for="${document.activeElement.id}"]`)?.textContent ?? '' : '');

  beforeAll(async () => {
    sb = await berthSandbox();
    folder = join(sb.base, 'Berth');
    docs = await sb.dir('docs');
    await writeFile(join(docs, 'a.txt'), 'local file\n');
    // A damaged mounts.json: the daemon moves it aside and says so in a notice.
    await mkdir(sb.configDir, { recursive: true });
    await writeFile(join(sb.configDir, 'mounts.json'), '{"version": 1, "mounts": [ this is not json');
    daemon = await startUiDaemon(sb);
    await sb.client.updateSettings({ mountFolder: folder });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    problems = await watchPage(page);
    await page.goto(daemon.url);
    await page.getByText('No mounts yet.').waitFor();
  });
  // A test that fails with a dialog open must not take the next ones with it.
  afterEach(async () => {
    for (let i = 0; i < 3 && (await page.locator('dialog[open]').count()) > 0; i++) await page.keyboard.press('Escape');
  });
  afterAll(async () => {
    await browser?.close();
    if (daemon) await stopDaemon(daemon).catch(() => undefined);
    await sb?.cleanup();
    expect(fuseMounts().filter((m) => sb && m.startsWith(sb.base))).toEqual([]);
  });

  it('shows the notice about the damaged mounts.json until it is dismissed', async () => {
    const notices = page.getByRole('region', { name: 'Notices' });
    await notices.getByText(/mounts\.json/).waitFor();
    await notices.getByRole('button', { name: 'Dismiss' }).first().click();
    await expect.poll(async () => (await sb.client.notices()).length).toBe(0);
    await notices.waitFor({ state: 'detached' });
  });

  it('bad input shows the schema\'s message under its field, focuses it, and saves nothing', async () => {
    await page.getByRole('button', { name: 'Add mount' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add mount' });
    const mount = dialog.getByRole('button', { name: 'Mount', exact: true });
    // Empty source: the Source parser's words, focus on Source, the button still enabled.
    await mount.click();
    await dialog.getByText(/^empty source: expected a CID/).waitFor();
    await expect.poll(focusedLabel).toBe('Source');
    expect(await mount.isEnabled()).toBe(true);

    await dialog.getByRole('textbox', { name: 'Source' }).fill(docs);
    await dialog.getByText(`✓ Local folder ${docs}`).waitFor();
    await dialog.getByRole('textbox', { name: 'Mount point' }).fill('relative/place');
    await mount.click();
    await dialog.getByText('expected an absolute path starting with "/"').waitFor();
    await expect.poll(focusedLabel).toBe('Mount point');
    expect(await dialog.getByRole('textbox', { name: 'Mount point' }).getAttribute('aria-invalid')).toBe('true');

    // A number field inside Advanced: the section opens and its field gets the message.
    await dialog.getByRole('textbox', { name: 'Mount point' }).fill(join(folder, 'docs'));
    await dialog.getByText('Advanced').click();
    await dialog.getByRole('textbox', { name: 'Call timeout (ms)' }).fill('soon');
    await dialog.getByText('Advanced').click();
    await mount.click();
    await dialog.getByRole('textbox', { name: 'Call timeout (ms)' }).waitFor();
    await expect.poll(focusedLabel).toBe('Call timeout (ms)');
    // The message is the field's description, as a screen reader announces it.
    const timeout = dialog.getByRole('textbox', { name: 'Call timeout (ms)' });
    expect(await timeout.getAttribute('aria-invalid')).toBe('true');
    await dialog.getByText(/expected number, received NaN/i).waitFor();
    expect(await timeout.evaluate((el) => document.getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent)).toMatch(/expected number/i);

    expect(await sb.client.list()).toEqual([]);
    expect(await savedMounts(sb)).toEqual([]);

    // Fixed: it mounts.
    await dialog.getByRole('textbox', { name: 'Call timeout (ms)' }).fill('');
    await mount.click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => chip('docs').textContent(), { timeout: 30_000 }).toBe('mounted');
    expect(fuseMountedAt(join(folder, 'docs'))).toBe(true);
    await page.keyboard.press('Escape');
  });

  it('a refusal from the service (a mount point in use) shows in the dialog and saves nothing', async () => {
    await page.getByRole('button', { name: 'Add mount' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add mount' });
    await dialog.getByRole('textbox', { name: 'Source' }).fill(docs);
    await dialog.getByRole('textbox', { name: 'Name' }).fill('again');
    await dialog.getByRole('textbox', { name: 'Mount point' }).fill(join(folder, 'docs'));
    await dialog.getByRole('button', { name: 'Mount', exact: true }).click();
    await dialog.getByRole('alert').getByText(/already used by mount/).waitFor();
    expect((await sb.client.list()).length).toBe(1);
    // The browser logs the refused request; that one is expected.
    expect(problems.list()).toEqual([`HTTP 409: POST ${daemon.origin}/v1/mounts`]);
    problems.clear();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  it('works from the keyboard: ↑/↓, Space, Enter, Esc, Shift+F10, Delete, Ctrl+N, Ctrl+,', async () => {
    await sb.client.add({ name: 'second', host: { kind: 'fuse', mountpoint: join(folder, 'second') }, guest: { kind: 'local', path: docs } }, { mount: false });
    await row('second').waitFor();
    // Tab from the header's last control reaches the table: one stop, on the first row.
    await page.getByRole('button', { name: 'Settings' }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.id !== undefined)).toBe(true);
    const focusedName = () => page.evaluate(() => document.activeElement?.querySelector('.c-name')?.textContent ?? '');
    await expect.poll(focusedName).toBe('docs');
    await page.keyboard.press('ArrowDown');
    await expect.poll(focusedName).toBe('second');
    // Space mounts the unmounted one.
    await page.keyboard.press(' ');
    await expect.poll(() => chip('second').textContent(), { timeout: 30_000 }).toBe('mounted');
    // Enter opens the details; Esc closes them and the focus comes back to the row.
    await page.keyboard.press('Enter');
    await page.getByRole('complementary', { name: 'second' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('complementary').waitFor({ state: 'detached' });
    await expect.poll(focusedName).toBe('second');
    // Shift+F10 opens the actions, focused on the first item; ↓ moves; Esc closes and returns.
    await page.keyboard.press('Shift+F10');
    const menu = page.getByRole('menu', { name: 'Actions for second' });
    await menu.waitFor();
    const focusedItem = () => page.evaluate(() => document.activeElement?.textContent ?? '');
    await expect.poll(focusedItem).toBe('Copy CID');
    expect(await menu.getByRole('menuitem', { name: 'Copy CID' }).getAttribute('title')).toBe('Local folders have no CID');
    expect(await menu.getByRole('menuitem', { name: 'Copy CID' }).isDisabled()).toBe(true);
    await page.keyboard.press('End');
    await expect.poll(focusedItem).toBe('Remove…');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    await expect.poll(focusedName).toBe('second');
    // Delete asks before removing.
    await page.keyboard.press('Delete');
    const confirm = page.getByRole('dialog', { name: 'Remove second?' });
    await confirm.waitFor();
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'detached' });
    expect((await sb.client.list()).length).toBe(2);
    // Ctrl+N adds, Ctrl+, opens the settings.
    await page.keyboard.press('Control+n');
    await page.getByRole('dialog', { name: 'Add mount' }).waitFor();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+,');
    await page.getByRole('dialog', { name: 'Settings' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
  });

  it('Browse pages through a big folder, and a local folder\'s entries say they have no CID', async () => {
    const big = await sb.dir('big');
    await Promise.all(Array.from({ length: 250 }, (_, i) => writeFile(join(big, `f${String(i).padStart(3, '0')}.txt`), `${i}\n`)));
    await sb.client.add({ name: 'big', host: { kind: 'fuse', mountpoint: join(folder, 'big') }, guest: { kind: 'local', path: big } });
    await expect.poll(() => chip('big').textContent(), { timeout: 30_000 }).toBe('mounted');
    await row('big').getByRole('cell', { name: 'big', exact: true }).click();
    const files = page.getByRole('complementary', { name: 'big' }).getByRole('table', { name: 'Files in big' });
    await files.getByRole('row', { name: /f199\.txt/ }).waitFor();
    // A header row and the first page of 200.
    expect(await files.getByRole('row').count()).toBe(201);
    await page.getByRole('button', { name: 'Show more' }).click();
    await files.getByRole('row', { name: /f249\.txt/ }).waitFor();
    expect(await files.getByRole('row').count()).toBe(251);
    expect(await page.getByRole('button', { name: 'Show more' }).count()).toBe(0);
    const copy = files.getByRole('button', { name: 'Copy CID of f000.txt' });
    expect(await copy.isDisabled()).toBe(true);
    expect(await copy.getAttribute('title')).toBe('Local folders have no CID');
    await page.keyboard.press('Escape');
    await page.getByRole('complementary').waitFor({ state: 'detached' });
  });

  it('a drop with nothing to mount says what was dropped and what Berth accepts', async () => {
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.setData('text/plain', 'see you at lunch');
      document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const toast = page.getByRole('status');
    await toast.getByText('Dropped the text “see you at lunch”, which holds no CID or link.').waitFor();
    await toast.getByText(/Berth accepts a CID/).waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);
  });

  it('settings: a bad gateway gets the schema\'s message and nothing is saved', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Settings' });
    await dialog.getByRole('textbox', { name: 'Gateway' }).fill('dweb.link');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText('expected a gateway URL like http://127.0.0.1:8080 or https://dweb.link').waitFor();
    expect((await sb.client.settings()).gateway).toBe('http://127.0.0.1:8080');
    await dialog.getByRole('textbox', { name: 'Gateway' }).fill('https://dweb.link');
    await dialog.getByRole('radio', { name: /Subdomain links/ }).check();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await sb.client.settings()).toMatchObject({ gateway: 'https://dweb.link', subdomainLinks: true, mountFolder: folder });
  });

  it('ran without console errors or CSP violations', () => {
    expect(problems.list()).toEqual([]);
  });
});
