import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/agent-harness.js';
import { waitFor } from '../helpers/wait.js';
import { accessibilityFindings, screenshot } from './browser.js';
import type { ConsoleHost } from './console-host.js';
import { openConsole } from './console-session.js';
import type { AppPage } from './pages/app-page.js';
import { DrillPanel } from './pages/drill-page.js';
import { ServiceDetailPage } from './pages/service-detail-page.js';

const TCP_SERVER = path.resolve(import.meta.dirname, '../fixtures/tcp-server.js');

let host: ConsoleHost;
let browser: Browser;
let page: Page;
let app: AppPage;
let errors: string[];

beforeAll(async () => {
  ({ host, browser, page, app, errors } = await openConsole(1000));
  // The service is applied through the console's own screen (the console's manager holds the inventory).
  const port = freePort();
  await app.open();
  await app.go('config');
  await app.by('config-yaml').fill(`services:\n  web:\n    command: ${process.execPath}\n    args: ["${TCP_SERVER}", "${port}"]\n    probes: [{ tcp: "127.0.0.1:${port}", interval: 200ms }]\n`);
  await app.by('config-preview-button').click();
  await app.by('config-preview-ok').waitFor();
  await app.by('config-apply').click();
  await app.by('config-applied').waitFor({ timeout: 30_000 });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await host?.dispose();
}, 60_000);

describe('a failover drill from the console (chromium, the local agent)', () => {
  it('a kill drill on a service with no standby is refused, then forced, and its report is shown with its timeline', async () => {
    await page.goto(`${host.url}#services/web`);
    const detail = new ServiceDetailPage(app, 'web');
    await detail.waitOpen();
    await detail.waitState('local', 'ready');
    const before = await detail.pid('local');
    const drill = new DrillPanel(app);
    await drill.ask('kill');
    expect(await drill.by('question').textContent()).toMatch(/Inject "kill" \(SIGKILL the program's process group\) on the node that runs web/);
    await screenshot(page, 'drill-01-confirm');
    await drill.confirm();
    await drill.by('refusal').waitFor({ timeout: 20_000 }).catch(async (e: unknown) => {
      throw new Error(`${String(e)}: box ${await drill.by('confirm-box').textContent()} status ${await drill.by('progress').textContent()}`);
    });
    expect(await drill.by('refusal').textContent()).toMatch(/no failover group.*DRILL_E_NO_STANDBY/s);
    await screenshot(page, 'drill-02-refused');
    await drill.by('force').click();
    const report = await drill.report();
    expect(await report.getAttribute('data-verdict')).toBe('no-budget');
    expect(await drill.by('node').textContent()).toBe('local → local');
    expect(await drill.by('recovery').textContent()).toMatch(/^\d+ ms$/);
    expect(await drill.by('client-outage').textContent()).toMatch(/^\d+ ms \(\d+ of \d+ probes failed\)$/);
    await waitFor('the timeline plot', async () => (await drill.by('plot').locator('canvas').count()) > 0);
    await detail.waitState('local', 'ready');
    expect(await detail.pid('local')).not.toBe(before);
    await screenshot(page, 'drill-03-report');
    // The report is kept: it is listed under earlier drills and opens again from there.
    await waitFor('the drill in the history', async () => (await drill.by('history').locator('button').count()) === 1);
    const ids = await host.armory('drill', '--list', '--json');
    expect((JSON.parse(ids.stdout) as { drills: { service: string; fault: string }[] }).drills).toMatchObject([{ service: 'web', fault: 'kill' }]);
  }, 120_000);

  it('raised no page errors and no serious accessibility violation', () => {
    expect(errors).toEqual([]);
    expect(accessibilityFindings).toEqual([]);
  });
});
