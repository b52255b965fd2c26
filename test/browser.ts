import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { onCleanup } from './harness.js';

/**
 * Chromium's headless shell from the system packages (`apt-get install
 * chromium-headless-shell`), driven by playwright-core: no browser download,
 * no network. It is the same Blink and V8 as the full browser without the
 * browser's own interface (Playwright's own choice for headless runs); a page
 * in a fresh context costs it about a third of the CPU the full browser's
 * headless mode spends, which on two cores is most of a browser test's time.
 * CHROMIUM_PATH picks another build, e.g. `/usr/bin/chromium`.
 */
const HEADLESS_SHELL = '/usr/bin/chromium-headless-shell';
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? (existsSync(HEADLESS_SHELL) ? HEADLESS_SHELL : '/usr/bin/chromium');

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let shared: Promise<Browser> | null = null;

/** One browser per test file, closed when the file's tests end. */
export function browser(): Promise<Browser> {
  if (!shared) {
    shared = chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS, headless: true });
    onCleanup(async () => {
      const b = await shared;
      shared = null;
      await b?.close();
    });
  }
  return shared;
}

/** A fresh context (own cookies) and page; Chinese unless told otherwise. */
export async function newPage(options: { locale?: string; baseURL?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const b = await browser();
  const context = await b.newContext({ locale: options.locale ?? 'zh-CN', baseURL: options.baseURL, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // Playwright's own default: a busy CI machine (four test files on two cores) can take seconds over an action.
  page.setDefaultTimeout(30_000);
  return { context, page };
}
