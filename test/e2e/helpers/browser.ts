import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { missingPeer } from '../../helpers/peers.ts';

// Debian's Chromium driven by playwright-core (PEERS.md "Browser"): never a downloaded
// browser, a fresh profile per launch, and every console error and CSP violation of the
// page collected so a test can say "the page ran clean".

/** Where Debian installs Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** Reason the browser tests cannot run here, or undefined (see peers.ts for CI). */
export function missingChromium(): string | undefined {
  return missingPeer('Chromium', () => existsSync(CHROMIUM), `needs ${CHROMIUM} (apt-get install chromium)`);
}

/** The launch flags of PEERS.md. */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** A browser with its own profile; close() ends it and deletes the profile. */
export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Options of one browser. */
export interface BrowserOptions {
  colorScheme?: 'light' | 'dark';
  viewport?: { width: number; height: number };
  /** An origin whose pages may read and write the clipboard. */
  clipboardOrigin?: string;
  deviceScaleFactor?: number;
}

/** Launches Chromium with a fresh user-data-dir. */
export async function launchBrowser(opts: BrowserOptions = {}): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'berth-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: opts.viewport ?? { width: 960, height: 640 },
    colorScheme: opts.colorScheme ?? 'light',
    deviceScaleFactor: opts.deviceScaleFactor ?? 1,
    reducedMotion: 'reduce',
  });
  if (opts.clipboardOrigin) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: opts.clipboardOrigin });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** What went wrong in a page: console errors, uncaught exceptions, CSP violations. */
export interface PageProblems {
  list(): string[];
  /** Forgets what was collected so far (before a step that is expected to log errors). */
  clear(): void;
}

/** Starts collecting a page's problems (call before goto). */
export async function watchPage(page: Page): Promise<PageProblems> {
  let problems: string[] = [];
  page.on('console', (m) => {
    // A failed request is listed with its URL below; the console only repeats its status.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url().replace(/access_token=[^&]+/, 'access_token=…')}`);
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url().replace(/access_token=[^&]+/, 'access_token=…')} (${r.failure()?.errorText})`));
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  await page.exposeFunction('__berthCsp', (text: string) => problems.push(`CSP: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __berthCsp(t: string): void }).__berthCsp(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  return {
    list: () => [...problems],
    clear: () => {
      problems = [];
    },
  };
}

/** The text on the page's clipboard (the context must have clipboard permissions). */
export async function readClipboard(page: Page): Promise<string> {
  return await page.evaluate(() => navigator.clipboard.readText());
}
