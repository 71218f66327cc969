import type { Browser, Page } from 'playwright-core';
import { launchChromium, watchErrors } from './browser.js';
import { ConsoleHost } from './console-host.js';
import { AppPage } from './pages/app-page.js';

export interface ConsoleSession {
  host: ConsoleHost;
  browser: Browser;
  page: Page;
  app: AppPage;
  /** Page errors and CSP violations seen so far. */
  errors: string[];
}

/** `armory console` and chromium started side by side, one page of `height` px on the console, its errors watched. */
export async function openConsole(height = 800): Promise<ConsoleSession> {
  const [host, browser] = await Promise.all([new ConsoleHost().start(), launchChromium()]);
  const page = await browser.newPage({ viewport: { width: 1280, height } });
  return { host, browser, page, errors: watchErrors(page), app: new AppPage(page, host.url) };
}
