import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotificationView } from '../../../../../common/bridge/events.js';
import { sendEmail } from '../../../../../main/core/notifications/channels/email-channel.js';
import { postWebhook } from '../../../../../main/core/notifications/channels/webhook-channel.js';
import type { StoredEmail } from '../../../../../main/core/notifications/stored-settings.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../../../helpers/smtp-receiver.js';

const notification: NotificationView = {
  id: 'n1',
  time: '2026-11-23T11:00:00.000Z',
  kind: 'failure',
  severity: 'warning',
  title: 'web on local failed',
  body: 'web on local failed: exit code 1: program failed; restarting per policy in 100ms',
  node: 'local',
  service: 'web',
};

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function smtp(credentials?: { user: string; pass: string }): Promise<SmtpReceiver> {
  const r = await startSmtpReceiver(credentials ? { credentials } : {});
  closers.push(() => r.close());
  return r;
}

const email = (port: number, extra: Partial<StoredEmail> = {}): StoredEmail => ({
  enabled: true,
  host: '127.0.0.1',
  port,
  security: 'none',
  user: 'ops',
  password: 's3cret',
  from: 'armory@example.test',
  to: ['ops@example.test', 'oncall@example.test'],
  ...extra,
});

/** A real HTTP receiver on loopback: records every request, answers with `status`. */
async function receiver(status = 200): Promise<{ url: string; got: { method: string; type: string; body: unknown }[] }> {
  const got: { method: string; type: string; body: unknown }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push({ method: req.method ?? '', type: req.headers['content-type'] ?? '', body: JSON.parse(body) as unknown });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'receiver is broken');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

describe('the e-mail channel, against a real SMTP server', () => {
  it('logs in and delivers the notification to every recipient, the title as the subject', async () => {
    const r = await smtp({ user: 'ops', pass: 's3cret' });
    const answer = await sendEmail(email(r.port), notification, 'cabc123');
    expect(answer).toMatch(/sent to ops@example.test, oncall@example.test/);
    expect(r.mails).toHaveLength(1);
    const mail = r.mails[0];
    expect(mail?.from).toBe('armory@example.test');
    expect(mail?.to).toEqual(['ops@example.test', 'oncall@example.test']);
    expect(mail?.auth).toEqual({ user: 'ops', pass: 's3cret' });
    expect(mail?.data).toMatch(/^Subject: \[Armory\] web on local failed$/m);
    expect(mail?.data).toContain('exit code 1: program failed');
    expect(mail?.data).toContain('cluster cabc123');
  });

  it('a refused login, a server that insists on STARTTLS it cannot do, and no server at all fail with NOTIFY_E_EMAIL and the reason', async () => {
    const r = await smtp({ user: 'ops', pass: 's3cret' });
    await expect(sendEmail(email(r.port, { password: 'wrong' }), notification, 'c')).rejects.toMatchObject({ code: 'NOTIFY_E_EMAIL', message: expect.stringMatching(/535/) });
    await expect(sendEmail(email(r.port, { security: 'starttls' }), notification, 'c')).rejects.toMatchObject({ code: 'NOTIFY_E_EMAIL', message: expect.stringMatching(/STARTTLS/i) });
    const closed = await smtp();
    const port = closed.port;
    await closed.close();
    await expect(sendEmail(email(port), notification, 'c')).rejects.toMatchObject({ code: 'NOTIFY_E_EMAIL', message: expect.stringMatching(/ECONNREFUSED/) });
    expect(r.mails).toEqual([]);
  });
});

describe('the webhook channel, against a real HTTP server', () => {
  it('POSTs the notification as JSON with a text field for chat webhooks', async () => {
    const hook = await receiver();
    expect(await postWebhook(hook.url, notification, 'cabc123')).toBe(`${hook.url} answered 200`);
    expect(hook.got).toEqual([
      {
        method: 'POST',
        type: 'application/json',
        body: { source: 'armory', version: 1, cluster: 'cabc123', text: `${notification.title}\n${notification.body}`, notification },
      },
    ]);
  });

  it('an error answer or no server fails with NOTIFY_E_WEBHOOK, the status and the answer', async () => {
    const hook = await receiver(500);
    await expect(postWebhook(hook.url, notification, 'c')).rejects.toMatchObject({ code: 'NOTIFY_E_WEBHOOK', message: expect.stringMatching(/answered 500 .*receiver is broken/) });
    const gone = await receiver();
    await closers.pop()?.();
    await expect(postWebhook(gone.url, notification, 'c')).rejects.toMatchObject({ code: 'NOTIFY_E_WEBHOOK', message: expect.stringMatching(/ECONNREFUSED/) });
  });
});
