import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { waitFor } from '../helpers/wait.js';
import { accessibilityFindings, screenshot } from './browser.js';
import type { ConsoleHost } from './console-host.js';
import { openConsole } from './console-session.js';
import type { AppPage } from './pages/app-page.js';
import { NotificationSettingsPage } from './pages/notification-settings-page.js';

let host: ConsoleHost;
let browser: Browser;
let page: Page;
let settings: NotificationSettingsPage;
let errors: string[];
let smtp: SmtpReceiver;
let hookServer: http.Server;
const hooks: { text: string }[] = [];

beforeAll(async () => {
  smtp = await startSmtpReceiver({ credentials: { user: 'ops', pass: 'pw' } });
  hookServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => (hooks.push(JSON.parse(body) as { text: string }), res.end('ok')));
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  let app: AppPage;
  ({ host, browser, page, app, errors } = await openConsole(1000));
  await app.open();
  settings = new NotificationSettingsPage(app);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.dispose();
  await smtp?.close();
  await new Promise((r) => hookServer?.close(r));
}, 60_000);

describe('notification settings in the console', () => {
  it('bad input is shown at its field and nothing is saved', async () => {
    await settings.open();
    await settings.fillEmail({ host: 'not a host!', port: 25, security: 'none', user: 'ops', password: 'pw', from: 'armory@example.test', to: 'nobody' });
    await settings.save();
    await waitFor('the field errors', async () => (await settings.fieldError('email.host').textContent()) !== '');
    expect(await settings.fieldError('email.host').textContent()).toMatch(/host name or IP address/);
    expect(await settings.fieldError('email.to').textContent()).toMatch(/e-mail address/);
    await screenshot(page, 'settings-notifications-invalid');
    await page.reload();
    await settings.by('notification-form').waitFor();
    expect(await settings.by('notify-email-host').inputValue()).toBe('');
  });

  it('e-mail and webhook are set up, saved, and each Test button delivers for real', async () => {
    await settings.open();
    await settings.fillEmail({ host: '127.0.0.1', port: smtp.port, security: 'none', user: 'ops', password: 'pw', from: 'armory@example.test', to: 'ops@example.test' });
    const hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`;
    await settings.fillWebhook(hookUrl);
    await settings.save();
    await waitFor('saved', async () => (await settings.status().textContent()) === 'Saved.');
    expect(await settings.by('notify-email-password').getAttribute('placeholder')).toMatch(/stored/);

    await settings.by('notify-test-email').click();
    await waitFor('the test e-mail', () => smtp.mails.length === 1);
    expect(smtp.mails[0]?.data).toMatch(/Subject: \[Armory\] Armory test notification/);
    await waitFor('the e-mail test result', async () => /Test sent \(email\)/.test((await settings.status().textContent()) ?? ''));

    await settings.by('notify-test-webhook').click();
    await waitFor('the test webhook', () => hooks.length === 1);
    expect(hooks[0]?.text).toMatch(/^Armory test notification/);
    await waitFor('the webhook test result', async () => /Test sent \(webhook\)/.test((await settings.status().textContent()) ?? ''));

    await settings.by('notify-test-desktop').click();
    await waitFor('the test notification in the page', async () => /Test sent \(desktop\)/.test((await settings.status().textContent()) ?? ''));
    expect(await settings.by('app-settings-unavailable').textContent()).toMatch(/desktop app/);
    await screenshot(page, 'settings-notifications');
    expect(errors).toEqual([]);
  });

  it('has no serious or critical axe-core violation, valid or invalid', () => {
    expect(accessibilityFindings).toEqual([]);
  });
});
