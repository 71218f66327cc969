import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventView } from '../../common/bridge/events.js';
import { BridgeHost } from '../../main/bridge-host/bridge-host.js';
import { startConsoleServer, type ConsoleServer } from '../../main/console/console-server.js';
import { sampleStatus, stubHandlers } from '../helpers/bridge-stubs.js';
import { waitFor } from '../helpers/wait.js';
import { launchChromium, screenshot } from './browser.js';
import { AppPage } from './pages/app-page.js';
import { EventsPage } from './pages/events-page.js';

const COUNT = 100_000;
const KINDS = ['transition', 'liveness', 'config', 'error'] as const;
const event = (seq: number): EventView => ({
  seq,
  agentSeq: seq,
  time: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
  node: seq % 2 === 0 ? 'local' : 'db-1',
  kind: KINDS[seq % KINDS.length] as EventView['kind'],
  service: `svc-${seq % 50}`,
  reason: `event number ${seq}`,
});

let host: BridgeHost;
let server: ConsoleServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const journal = Array.from({ length: COUNT }, (_, i) => event(i + 1));
  host = new BridgeHost(
    stubHandlers({
      services: { status: async () => sampleStatus(), availability: async () => [] },
      events: { query: async ({ limit }) => ({ events: journal.slice(-limit), last: COUNT }) },
    }),
  );
  [server, browser] = await Promise.all([startConsoleServer(host, { port: 0, rendererDir: path.resolve(import.meta.dirname, '../../dist/renderer') }), launchChromium()]);
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the Events screen with 100k events', () => {
  it('lists them all through a virtual list, filters them, and stays live', async () => {
    const app = new AppPage(page, server.url);
    await app.open();
    const events = new EventsPage(app);
    await events.open();
    await waitFor('every event to be listed', async () => (await app.by('events-count').textContent()) === `${COUNT} of ${COUNT} events`, { timeoutMs: 30_000 });
    // Only what is on screen is in the DOM, and the list opens at the newest entry.
    expect(await app.by('event-row').count()).toBeLessThan(100);
    await events.rows(`event number ${COUNT}`).waitFor();
    await screenshot(page, '15-events-100k');

    await events.filter('kind', 'error');
    await waitFor('the filter', async () => (await app.by('events-count').textContent()) === `${COUNT / 4} of ${COUNT} events`);
    await events.filter('node', 'local');
    await waitFor('both filters', async () => (await app.by('events-count').textContent()) === `0 of ${COUNT} events`);
    await events.filter('kind', 'config');
    await waitFor('config events of local', async () => (await app.by('events-count').textContent()) === `${COUNT / 4} of ${COUNT} events`);
    await events.filter('kind', '');

    // Keyboard: Home goes to the oldest entry.
    await app.by('events-list').focus();
    await page.keyboard.press('Home');
    await events.rows(/^.*event number 2$/).waitFor();

    // Live: appended events show up under the filters that match them.
    await page.keyboard.press('End');
    await waitFor('live events', async () => {
      host.emit('events', 'appended', { events: [event(COUNT + 2), event(COUNT + 4)] });
      return (await app.by('events-count').textContent()) === `${COUNT / 2 + 2} of ${COUNT + 2} events`;
    });
    await events.rows(`event number ${COUNT + 4}`).waitFor();
  });
});
