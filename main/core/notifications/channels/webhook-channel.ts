import type { NotificationView } from '../../../../common/bridge/events.js';
import { ArmoryError } from '../../../../common/errors/armory-error.js';

const TIMEOUT_MS = 10_000;
const MAX_ANSWER = 300;

/**
 * The JSON a webhook receives: the notification, plus `text` (title and body in one string) so that
 * chat webhooks that show a `text` field (Slack, Mattermost, Rocket.Chat) need no adapter.
 */
export function webhookPayload(n: NotificationView, cluster: string) {
  return { source: 'armory', version: 1, cluster, text: `${n.title}\n${n.body}`, notification: n };
}

/** POSTs a notification as JSON; any answer but 2xx, a timeout or no connection is NOTIFY_E_WEBHOOK. */
export async function postWebhook(url: string, n: NotificationView, cluster: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'armory-notifications' },
      body: JSON.stringify(webhookPayload(n, cluster)),
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    const why = (e as Error).name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : ((e as Error & { cause?: Error }).cause?.message ?? (e as Error).message);
    throw new ArmoryError('NOTIFY_E_WEBHOOK', `cannot POST to ${url}: ${why}`, { url }, { cause: e });
  }
  const answer = (await res.text().catch(() => '')).slice(0, MAX_ANSWER);
  if (!res.ok) throw new ArmoryError('NOTIFY_E_WEBHOOK', `${url} answered ${res.status} ${res.statusText}${answer ? `: ${answer}` : ''}`, { url, status: res.status });
  return `${url} answered ${res.status}`;
}
