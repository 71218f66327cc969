import type { EventView, NotificationView } from '../../common/bridge/events.js';
import { alertFor, emptyAlertMemory, type Alert, type AlertMemory } from '../core/notifications/alert-policy.js';

const elapsed = (ms: number) => (ms < 1000 ? `${ms} ms` : ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

/**
 * What the page is told about journal entries. Which entries alert is the one notification policy
 * (core/notifications/alert-policy.ts: a crash loop is one failure, a recovery follows a failure,
 * escalations and give-ups always); this only words each alert for the page, with how long the
 * service was down when it recovers.
 */
export class NotificationRules {
  private memory: AlertMemory = emptyAlertMemory();
  /** `node/service` → time of the failure not yet recovered from. */
  private readonly since = new Map<string, number>();

  /** What an event is worth telling, or null. */
  notify(e: EventView): NotificationView | null {
    const r = alertFor(this.memory, e);
    this.memory = r.memory;
    const key = `${e.node}/${e.service ?? ''}`;
    const failedAt = this.since.get(key);
    if (!r.memory.has(key)) this.since.delete(key);
    else if (failedAt === undefined) this.since.set(key, Date.parse(e.time));
    return r.alert ? this.view(r.alert, e, failedAt) : null;
  }

  private view(a: Alert, e: EventView, failedAt: number | undefined): NotificationView {
    const where = `${a.service} on ${a.node}`;
    const base = { id: `${e.node}-${e.agentSeq}`, time: e.time, node: e.node, ...(a.service ? { service: a.service } : {}) };
    switch (a.kind) {
      case 'escalation':
        return { ...base, kind: 'escalation', severity: 'error', title: `${where} escalated`, body: `${a.reason}. Armory moves it to the next node of its placement.` };
      case 'give-up':
        return { ...base, kind: 'give-up', severity: 'error', title: `${where} failed: Armory gave up`, body: `${a.reason}. It stays stopped until you start it again.` };
      case 'recovery': {
        const down = failedAt === undefined ? '' : ` after ${elapsed(Date.parse(e.time) - failedAt)}`;
        const times = a.failures > 1 ? ` (${a.failures} failures)` : '';
        return { ...base, kind: 'recovery', severity: 'info', title: `${where} recovered`, body: `Running again${down}${times}.` };
      }
      default:
        return { ...base, kind: 'failure', severity: 'warning', title: `${where} ${e.from === 'running' ? 'stopped unexpectedly' : 'failed to start'}`, body: `${a.reason}. Armory restarts it.` };
    }
  }
}
