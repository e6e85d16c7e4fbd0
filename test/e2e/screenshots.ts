import '../helpers/withResolvers.cjs';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { berthSandbox, waitFor } from '../helpers/berthDaemon.ts';
import { unusedPort } from '../helpers/ports.ts';
import { launchBrowser, watchPage } from './helpers/browser.ts';
import { addSite, startPeer } from './helpers/site.ts';
import { startUiDaemon, stopDaemon } from './helpers/uiDaemon.ts';

// `npm run screenshots`: every screen of the browser face, light and dark, written to
// docs/screenshots/ from a real daemon with a realistic table: IPFS content mounted with
// FUSE, a local folder, an NFS export, a share that fails and retries, one whose node
// went away, one unmounted outside Berth, one never mounted. Needs root, FUSE, Chromium and the js-ipfs peer.

const OUT = resolve(import.meta.dirname, '../../docs/screenshots');
/** A short, fixed base so paths in the pictures read like a person's. */
const BASE = '/tmp/berth-shots';
const SCHEMES = ['light', 'dark'] as const;

async function shoot(page: Page, name: string, ready?: () => Promise<unknown>): Promise<void> {
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    await ready?.();
    // Let the spinner and the countdown settle into a frame.
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(OUT, `${name}-${colorScheme}.png`) });
  }
  console.error(`screenshots: ${name}`);
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  await rm(BASE, { recursive: true, force: true });
  const sb = await berthSandbox();
  const peer = await startPeer();
  const site = await addSite(peer.client);
  // A second node, stopped once its mount is up: the "node unreachable" row.
  const away = await startPeer();
  const archive = await addSite(away.client);
  const browser = await launchBrowser({ viewport: { width: 960, height: 640 } });
  try {
    // A home of its own, so paths read "~/Berth/…" as on a person's machine.
    const home = join(BASE, 'home', 'ana');
    sb.env.HOME = home;
    const folder = join(home, 'Berth');
    const notes = join(home, 'Notes');
    await mkdir(notes, { recursive: true });
    for (const [n, text] of Object.entries({ 'todo.md': '- mount the NAS\n', 'ideas.txt': 'a tray icon\n', 'photos/.keep': '' })) {
      await mkdir(join(notes, n, '..'), { recursive: true });
      await writeFile(join(notes, n), text);
    }
    const daemon = await startUiDaemon(sb);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: daemon.origin });
    await sb.client.updateSettings({ ipfsNode: peer.apiMultiaddr });
    const page = await browser.context.newPage();
    const problems = await watchPage(page);
    await page.goto(daemon.url);
    await page.getByText('No mounts yet.').waitFor();
    await page.getByText(/IPFS: js-ipfs/).waitFor();
    await shoot(page, 'empty');

    // The table: added through the API, in the order a person might have.
    const c = sb.client;
    await c.add({ name: 'Site docs', host: { kind: 'fuse', mountpoint: join(folder, 'Site docs') }, guest: { kind: 'ipfs', root: `/ipfs/${site.rootCid}` } });
    await c.add({ name: 'Notes', host: { kind: 'fuse', mountpoint: join(folder, 'Notes'), readOnly: false }, guest: { kind: 'local', path: notes, readOnly: false } });
    const deadPort = await unusedPort();
    await c.add(
      { name: 'NAS share', host: { kind: 'fuse', mountpoint: join(folder, 'NAS share') }, guest: { kind: 'nfs', server: `/ip4/127.0.0.1/tcp/${deadPort}`, export: '/export', mountPort: deadPort } },
      { mount: true },
    );
    await c.add({ name: 'Site over NFS', host: { kind: 'nfs', listen: '/ip4/127.0.0.1/tcp/0' }, guest: { kind: 'ipfs', root: `/ipfs/${site.rootCid}` } });
    await c.add({ name: 'Pins', host: { kind: 'fuse', mountpoint: join(folder, 'Pins') }, guest: { kind: 'pinfs' }, autoMount: false }, { mount: false });
    await c.add({ name: 'Archive', host: { kind: 'fuse', mountpoint: join(folder, 'Archive') }, guest: { kind: 'ipfs', root: `/ipfs/${archive.cids.get('site/docs')}`, node: away.apiMultiaddr } });
    await away.kill();
    await page.getByText('mounted · node unreachable').waitFor({ timeout: 60_000 });
    const scratch = await c.add({ name: 'Scratch', host: { kind: 'fuse', mountpoint: join(folder, 'Scratch') }, guest: { kind: 'local', path: notes } });
    execFileSync('fusermount', ['-u', join(folder, 'Scratch')]);
    await waitFor(async () => (await c.get(scratch.id)).state === 'stale', 15_000, 'Scratch to go stale');
    await page.getByRole('table', { name: 'Mounts' }).getByText('stale — cleaning up').waitFor();
    // The failing share retries with a growing delay: shoot while it waits, not while it tries.
    const failedWaiting = () => page.getByText(/failed · retry in ([4-9]|\d\d) s/).waitFor({ timeout: 120_000 });
    await shoot(page, 'main', failedWaiting);

    // The actions menu of a mounted IPFS mount.
    const row = (name: string) => page.getByRole('table', { name: 'Mounts' }).getByRole('row').filter({ has: page.getByRole('switch', { name: `Mount ${name}`, exact: true }) });
    await row('Site docs').getByRole('button', { name: 'More actions' }).click();
    await page.getByRole('menu').waitFor();
    await shoot(page, 'actions-menu', failedWaiting);
    await page.keyboard.press('Escape');

    // Details and Browse.
    await row('Site docs').getByRole('cell', { name: 'Site docs', exact: true }).click();
    const files = page.getByRole('table', { name: 'Files in Site docs' });
    await files.getByText('hello.txt').waitFor();
    await page.getByRole('complementary').getByText(/^bafy…/).first().waitFor();
    // With the "Copied" toast a file's Copy CID shows.
    await shoot(page, 'details-browse', async () => {
      await failedWaiting();
      await files.getByRole('button', { name: 'Copy CID of hello.txt' }).click();
      await page.getByRole('status').getByText('Copied').first().waitFor();
    });
    await page.getByRole('complementary').getByRole('button', { name: 'Close details' }).click();
    await page.getByRole('status').getByText('Copied').first().waitFor({ state: 'detached' });

    // The add dialog: a pasted gateway link understood, and a mount point the schema refuses.
    await page.getByRole('button', { name: 'Add mount' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add mount' });
    await dialog.getByRole('textbox', { name: 'Source' }).fill(`https://dweb.link/ipfs/${site.cids.get('site/docs')}`);
    await dialog.getByRole('textbox', { name: 'Name' }).fill('Handbook');
    await dialog.getByRole('textbox', { name: 'Mount point' }).fill('Berth/Handbook');
    await dialog.getByRole('button', { name: 'Mount', exact: true }).click();
    await dialog.getByText(/expected an absolute path/).waitFor();
    await shoot(page, 'add-dialog', failedWaiting);
    await page.keyboard.press('Escape');

    // The add dialog for a local folder, its advanced options open: read-write and extended attributes.
    await page.getByRole('button', { name: 'Add mount' }).first().click();
    await dialog.getByRole('textbox', { name: 'Source' }).fill(notes);
    await dialog.getByText('Advanced').click();
    await dialog.getByRole('checkbox', { name: 'Read-write (local folders only)' }).check();
    await dialog.getByRole('checkbox', { name: /Extended attributes/ }).check();
    await shoot(page, 'add-dialog-local');
    await page.keyboard.press('Escape');

    // Settings.
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('dialog', { name: 'Settings' }).getByText(/Connected to js-ipfs/).waitFor();
    await shoot(page, 'settings', failedWaiting);
    await page.keyboard.press('Escape');

    // Something dragged over the window.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.setData('text/plain', 'ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi');
      document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.getByText('Drop to mount').waitFor();
    await shoot(page, 'drop-overlay', failedWaiting);
    await page.evaluate(() => window.dispatchEvent(new DragEvent('dragend', { bubbles: true })));

    // Narrow: the smallest window the app allows; there the details take the whole area.
    await page.setViewportSize({ width: 640, height: 400 });
    await shoot(page, 'narrow', failedWaiting);
    await row('Site docs').getByRole('cell', { name: 'Site docs', exact: true }).click();
    await files.getByText('hello.txt').waitFor();
    await shoot(page, 'narrow-details');
    await page.setViewportSize({ width: 960, height: 640 });
    await page.getByRole('complementary').getByRole('button', { name: 'Close details' }).click();

    // The daemon goes away: the page says so and keeps trying.
    const problemsBefore = problems.list();
    await stopDaemon(daemon);
    await page.getByRole('alert').getByText('Lost the connection to Berth.').waitFor({ timeout: 15_000 });
    await shoot(page, 'connection-lost');

    // A page opened without its token.
    const bare = await browser.context.newPage();
    const d2 = await startUiDaemon(sb);
    await bare.goto(`${d2.origin}/`);
    await bare.getByText('This page needs the address Berth printed').waitFor();
    await shoot(bare, 'no-token');
    await stopDaemon(d2);
    if (problemsBefore.length > 0) console.error(`screenshots: the page logged problems:\n${problemsBefore.join('\n')}`);
  } finally {
    await browser.close();
    await sb.cleanup();
    await peer.stop();
    await away.stop();
    for (const mp of ['Site docs', 'Notes', 'NAS share', 'Archive', 'Pins', 'Scratch']) {
      try {
        execFileSync('fusermount', ['-uz', join(BASE, 'home', 'ana', 'Berth', mp)], { stdio: 'ignore' });
      } catch {
        // not mounted
      }
    }
    await rm(BASE, { recursive: true, force: true });
  }
  console.error(`screenshots: written to ${OUT}`);
}

main().catch((err: unknown) => {
  console.error(`screenshots failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
