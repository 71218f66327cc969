import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotificationView } from '../../../../../common/bridge/events.js';
import type { ArmoryError } from '../../../../../common/errors/armory-error.js';
import { AppendLog } from '../../../../../common/node/append-log.js';
import { managerEventSchema, type ManagerEventInput } from '../../../../../main/core/events/manager-events.js';
import { Inventory } from '../../../../../main/core/inventory/inventory.js';
import { NotificationCenter } from '../../../../../main/core/notifications/notification-center.js';
import { startSmtpReceiver } from '../../../../helpers/smtp-receiver.js';
import { waitFor } from '../../../../helpers/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-notify-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const inventoryFile = path.join(dir, 'inventory.json');
  const inventory = new Inventory(inventoryFile, () => undefined);
  await inventory.load();
  const journal = new AppendLog<ManagerEventInput>(path.join(dir, 'events'), managerEventSchema as never, { segmentBytes: 1 << 20, segments: 2 });
  journal.open();
  cleanups.push(() => journal.close());
  const smtp = await startSmtpReceiver({ credentials: { user: 'ops', pass: 'pw' } });
  cleanups.push(() => smtp.close());
  const hooks: unknown[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      hooks.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const errors: [string, ArmoryError][] = [];
  const center = new NotificationCenter({ inventory, journal, onChannelError: (c, e) => errors.push([c, e]) }).start();
  cleanups.push(() => center.close());
  const shown: { n: NotificationView; desktop: boolean; test: boolean }[] = [];
  center.onNotification((n, o) => shown.push({ n, ...o }));
  const hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { inventory, inventoryFile, journal, smtp, hooks, errors, center, shown, hookUrl };
}

const transition = (service: string, from: string, to: string, event: string, reason: string): ManagerEventInput => ({
  time: new Date().toISOString(),
  node: 'local',
  agentSeq: 1,
  kind: 'transition',
  service,
  from,
  to,
  reason,
  detail: { event },
});

describe('the notification center: journal → policy → grouping → channels', () => {
  it('a crash of two services becomes one notification on the desktop, by e-mail and by webhook; the recovery follows', async () => {
    const t = await setup();
    await t.center.setSettings({
      email: { enabled: true, host: '127.0.0.1', port: t.smtp.port, security: 'none', user: 'ops', password: 'pw', from: 'armory@example.test', to: ['ops@example.test'] },
      webhook: { enabled: true, url: t.hookUrl },
      rules: { groupWindowMs: 300 },
    });
    t.journal.append(transition('web', 'running', 'backing-off', 'exited', 'exit code 1: program failed; restarting per policy in 100ms'));
    t.journal.append(transition('db', 'running', 'starting', 'exited', 'signal SIGKILL: program failed; restarting per policy'));
    t.journal.append(transition('web', 'starting', 'backing-off', 'exited', 'exit code 1 again'));
    await waitFor('the grouped notification', () => t.shown.length === 1 && t.smtp.mails.length === 1 && t.hooks.length === 1);
    await t.center.settled();
    expect(t.shown[0]).toMatchObject({ desktop: true, test: false, n: { kind: 'failure', title: '2 services: 2 failed' } });
    expect(t.smtp.mails[0]?.data).toMatch(/^Subject: \[Armory\] 2 services: 2 failed$/m);
    expect(t.hooks[0]).toMatchObject({ source: 'armory', notification: { title: '2 services: 2 failed' } });

    t.journal.append(transition('web', 'starting', 'running', 'ready', 'program is ready'));
    await waitFor('the recovery', () => t.shown.length === 2 && t.smtp.mails.length === 2 && t.hooks.length === 2);
    expect(t.shown[1]?.n).toMatchObject({ kind: 'recovery', title: 'web on local recovered', node: 'local', service: 'web' });
    expect(t.errors).toEqual([]);
  });

  it('a node that stops answering is told like a failure, and its return like a recovery', async () => {
    const t = await setup();
    await t.center.setSettings({ webhook: { enabled: true, url: t.hookUrl }, rules: { groupWindowMs: 0 } });
    t.center.onReachability('b', false, 'connect ECONNREFUSED');
    await waitFor('the node alert', () => t.shown.length === 1 && t.hooks.length === 1);
    expect(t.shown[0]?.n).toMatchObject({ kind: 'failure', title: 'node b does not answer', node: 'b' });
    t.center.onReachability('b', true, 'answers over mutual TLS again');
    await waitFor('the node recovery', () => t.shown.length === 2);
    expect(t.shown[1]?.n.title).toBe('node b answers again');
  });

  it('only the kinds chosen notify; a channel that fails is reported, the others still deliver', async () => {
    const t = await setup();
    await t.center.setSettings({ webhook: { enabled: true, url: 'http://127.0.0.1:9/nothing-listens' }, rules: { kinds: ['give-up'], groupWindowMs: 0 } });
    t.journal.append(transition('web', 'running', 'backing-off', 'exited', 'exit code 1'));
    t.journal.append(transition('web', 'starting', 'failed', 'exited', 'restart budget spent; gave up'));
    await waitFor('the give-up', () => t.shown.length === 1 && t.errors.length === 1);
    expect(t.shown[0]?.n).toMatchObject({ kind: 'give-up', severity: 'error', title: 'Armory gave up on web on local' });
    expect(t.errors[0]?.[0]).toBe('webhook');
    expect(t.errors[0]?.[1].code).toBe('NOTIFY_E_WEBHOOK');
  });

  it('settings persist in the inventory; the SMTP password is kept when not given and never shown', async () => {
    const t = await setup();
    const base = { enabled: true, host: '127.0.0.1', port: t.smtp.port, security: 'none' as const, user: 'ops', from: 'armory@example.test', to: ['ops@example.test'] };
    const view = await t.center.setSettings({ email: { ...base, password: 'pw' }, desktop: { enabled: false } });
    expect(view.email).toMatchObject({ passwordSet: true, host: '127.0.0.1' });
    expect(JSON.stringify(view)).not.toContain('pw"');
    await t.center.setSettings({ email: { ...base, to: ['other@example.test'] } });
    expect(t.inventory.data.notifications.email).toMatchObject({ password: 'pw', to: ['other@example.test'] });
    expect((await t.center.test('email')).ok).toBe(true);
    expect(t.smtp.mails.at(-1)?.to).toEqual(['other@example.test']);
    await t.center.setSettings({ email: { ...base, password: null } });
    expect(t.center.settings().email?.passwordSet).toBe(false);
    await expect(t.center.setSettings({ webhook: { enabled: true, url: 'ftp://example.test/x' } })).rejects.toMatchObject({ code: 'NOTIFY_E_SETTINGS' });
    expect(t.center.settings().desktop).toEqual({ enabled: false });

    const reread = await new Inventory(t.inventoryFile, () => undefined).load();
    expect(reread.notifications).toMatchObject({ desktop: { enabled: false }, email: { password: null, to: ['ops@example.test'] } });
  });

  it('the test action says what happened on each channel, set up or not', async () => {
    const t = await setup();
    expect(await t.center.test('email')).toEqual({ channel: 'email', ok: false, message: 'no SMTP server is set up [NOTIFY_E_SETTINGS]' });
    expect(await t.center.test('webhook')).toMatchObject({ ok: false, message: expect.stringMatching(/NOTIFY_E_SETTINGS/) });
    const desktop = await t.center.test('desktop');
    expect(desktop.ok).toBe(true);
    expect(t.shown.at(-1)).toMatchObject({ test: true, n: { kind: 'info', title: 'Armory test notification' } });
    await t.center.setSettings({ webhook: { enabled: false, url: t.hookUrl } });
    expect(await t.center.test('webhook')).toMatchObject({ ok: true, message: `${t.hookUrl} answered 200` });
    expect(t.hooks).toHaveLength(1);
  });
});
