import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/agent-harness.js';
import { readCrontab, restoreCrontab } from '../helpers/crontab.js';
import { TestSshd } from '../helpers/sshd-server.js';
import { launchChromium, screenshot } from './browser.js';
import { ConsoleHost } from './console-host.js';
import { AddNodePage } from './pages/add-node-page.js';
import { AppPage } from './pages/app-page.js';

/**
 * Enrolling a host over a real sshd from the Add node wizard. Enrollment installs the keeper in
 * root's crontab, like test/integration/main/enrollment/: named .serial, it runs alone, after the
 * parallel tests.
 */

let sshd: TestSshd;
let host: ConsoleHost;
let browser: Browser;
let page: Page;
let root: string;
let crontabAtStart: string | null;

beforeAll(async () => {
  crontabAtStart = readCrontab();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-e2e-host-'));
  [sshd, host, browser] = await Promise.all([TestSshd.start(), new ConsoleHost().start(), launchChromium()]);
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.dispose();
  await sshd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
  restoreCrontab(crontabAtStart);
}, 120_000);

describe('Add node: enrolling a host over a real sshd from the GUI', () => {
  it('shows the host key to confirm, every step live, then the node answering; removal leaves nothing behind', async () => {
    const app = new AppPage(page, host.url);
    await app.open();
    const wizard = new AddNodePage(app);
    await wizard.open();
    await wizard.fill({ address: '127.0.0.1', port: sshd.port, user: 'root', keyFile: sshd.agentKey, name: 'n1', agentPort: freePort(), installRoot: root });
    await wizard.start();
    await wizard.fingerprint().waitFor({ timeout: 20_000 });
    expect(await wizard.fingerprint().textContent()).toBe(sshd.hostKeyFingerprint);
    await screenshot(page, '16-add-node-host-key');
    await wizard.acceptKey();
    await wizard.ok().waitFor({ timeout: 90_000 });
    for (const step of ['connect', 'profile', 'upload', 'certificate', 'install', 'start']) expect(await wizard.step(step).getAttribute('data-status')).toBe('done');
    await screenshot(page, '17-add-node-enrolled');

    await app.go('nodes');
    await app.by('node-row-n1').waitFor();
    await app.by('node-details-n1').click();
    await app.by('view-node-detail').waitFor();
    await app.by('remove-auth-kind').selectOption('key-file');
    await app.by('remove-key-file').fill(sshd.agentKey);
    page.once('dialog', (d) => void d.accept());
    await app.by('node-remove').click();
    await app.by('view-nodes').waitFor({ timeout: 60_000 });
    await app.by('node-row-n1').waitFor({ state: 'detached' });
    // Removal takes away everything enrollment made, the folders it created included.
    expect(fs.readdirSync(root)).toEqual([]);
    expect(readCrontab()).toBe(crontabAtStart);
  }, 180_000);

  it('a refused host key rolls back with the reason shown, and nothing is installed', async () => {
    const app = new AppPage(page, host.url);
    const wizard = new AddNodePage(app);
    await wizard.open();
    await wizard.fill({ address: '127.0.0.1', port: sshd.port, user: 'root', keyFile: sshd.agentKey, name: 'n2', agentPort: freePort(), installRoot: root });
    await wizard.start();
    await wizard.fingerprint().waitFor({ timeout: 20_000 });
    await app.by('enroll-reject-key').click();
    await wizard.failed().waitFor({ timeout: 30_000 });
    expect(await wizard.failed().textContent()).toMatch(/failed at connect.*ENROLL_E_HOST_KEY_REJECTED/);
    await screenshot(page, '18-add-node-refused');
    expect(fs.readdirSync(root).filter((f) => f !== 'opt' || fs.readdirSync(path.join(root, 'opt')).length > 0)).toEqual([]);
  }, 60_000);
});
