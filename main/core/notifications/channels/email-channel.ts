import { createTransport } from 'nodemailer';
import type { NotificationView } from '../../../../common/bridge/events.js';
import { ArmoryError } from '../../../../common/errors/armory-error.js';
import type { StoredEmail } from '../stored-settings.js';

/** Bounds of one SMTP conversation: a server that stalls fails the send instead of holding it. */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000, dnsTimeout: 10_000 } as const;

/** The message of a notification: the title as the subject, the body, and where it came from. */
export function emailMessage(n: NotificationView, cluster: string) {
  return {
    subject: `[Armory] ${n.title}`,
    text: `${n.body}\n\n— Armory, cluster ${cluster}, ${n.time}${n.node && n.service ? `\nService: ${n.service} on node ${n.node}` : ''}\n`,
  };
}

/**
 * Sends a notification by e-mail through the configured SMTP server (nodemailer). `starttls`
 * refuses a server that cannot upgrade; `none` is for relays on the same machine or network.
 * Resolves with the server's answer; fails with NOTIFY_E_EMAIL and the server's words.
 */
export async function sendEmail(settings: StoredEmail, n: NotificationView, cluster: string): Promise<string> {
  const transport = createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.security === 'tls',
    requireTLS: settings.security === 'starttls',
    ignoreTLS: settings.security === 'none',
    ...(settings.user !== null ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
    ...TIMEOUTS,
  });
  try {
    const info = await transport.sendMail({ from: settings.from, to: settings.to, ...emailMessage(n, cluster) });
    return `sent to ${settings.to.join(', ')} through ${settings.host}:${settings.port} (${String(info.response ?? 'accepted')})`;
  } catch (e) {
    throw new ArmoryError('NOTIFY_E_EMAIL', `cannot send the e-mail through ${settings.host}:${settings.port}: ${(e as Error).message}`, { host: settings.host, port: settings.port }, { cause: e });
  } finally {
    transport.close();
  }
}
