import type { EventView, NotificationView } from '../../common/bridge/events.js';

const FAILED_FROM = new Set(['running', 'starting']);
const DOWN = new Set(['backing-off', 'starting', 'failed', 'escalated']);

/**
 * Turns journal entries into what the user is told: a failure and what Armory does about it, an
 * escalation, a give-up, and the recovery that follows a failure. Keeps, per service, whether a
 * failure is still open, so that a recovery is announced once and only after a failure.
 */
export class NotificationRules {
  /** `node\0service` → time of the failure not yet recovered from. */
  private readonly open = new Map<string, number>();

  /** What an event is worth telling, or null. */
  notify(e: EventView): NotificationView | null {
    if (e.kind !== 'transition' || !e.service || !e.to) return null;
    const key = `${e.node}\0${e.service}`;
    const where = `${e.service} on ${e.node}`;
    const base = { id: `${e.node}-${e.agentSeq}`, time: e.time, node: e.node, service: e.service };
    if (e.to === 'escalated') {
      this.open.set(key, this.open.get(key) ?? Date.parse(e.time));
      return { ...base, kind: 'escalation', severity: 'error', title: `${where} escalated`, body: `${e.reason}. Armory moves it to the next node of its placement.` };
    }
    if (e.to === 'failed') {
      this.open.set(key, this.open.get(key) ?? Date.parse(e.time));
      return { ...base, kind: 'give-up', severity: 'error', title: `${where} failed: Armory gave up`, body: `${e.reason}. It stays stopped until you start it again.` };
    }
    if (e.from !== undefined && FAILED_FROM.has(e.from) && DOWN.has(e.to) && e.from !== e.to && !(e.from === 'starting' && e.to === 'starting')) {
      if (e.from === 'starting' && this.open.has(key)) return null;
      this.open.set(key, Date.parse(e.time));
      return { ...base, kind: 'failure', severity: 'warning', title: `${where} ${e.from === 'running' ? 'stopped unexpectedly' : 'failed to start'}`, body: `${e.reason}. Armory restarts it.` };
    }
    if (e.to === 'running' && this.open.has(key)) {
      const ms = Date.parse(e.time) - (this.open.get(key) as number);
      this.open.delete(key);
      return { ...base, kind: 'recovery', severity: 'info', title: `${where} recovered`, body: `Running again after ${ms < 1000 ? `${ms} ms` : ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`}.` };
    }
    if (e.to === 'stopped' || e.to === 'stopping') this.open.delete(key);
    return null;
  }
}
