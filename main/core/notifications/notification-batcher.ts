import type { NotificationView } from '../../../common/bridge/events.js';
import type { AlertKind, NotificationRules } from '../../../common/bridge/settings.js';
import type { Alert } from './alert-policy.js';

/**
 * Grouping and rate limiting of alerts, as pure functions of a state and the time. Alerts wait at
 * most `groupWindowMs` and leave together as one notification; when `maxPerWindow` notifications
 * went out in the last `rateWindowMs`, the next waits until one leaves the window, gathering
 * everything that comes meanwhile. Nothing is dropped: a notification names how many alerts it holds.
 */
export interface BatcherState {
  readonly pending: readonly Alert[];
  /** When the oldest pending alert arrived. */
  readonly since: number | null;
  /** When the notifications of the current rate window went out, oldest first. */
  readonly sentAt: readonly number[];
  /** Numbers the notifications. */
  readonly count: number;
}

export type BatcherRules = Pick<NotificationRules, 'groupWindowMs' | 'maxPerWindow' | 'rateWindowMs'>;

export const emptyBatcher = (): BatcherState => ({ pending: [], since: null, sentAt: [], count: 0 });

export function addAlert(state: BatcherState, alert: Alert, now: number): BatcherState {
  return { ...state, pending: [...state.pending, alert], since: state.since ?? now };
}

const inWindow = (sentAt: readonly number[], now: number, rules: BatcherRules) => sentAt.filter((t) => now - t < rules.rateWindowMs);

/** When the pending alerts may leave: null when none wait. */
export function dueAt(state: BatcherState, rules: BatcherRules, now: number): number | null {
  if (state.since === null) return null;
  const grouped = state.since + rules.groupWindowMs;
  const recent = inWindow(state.sentAt, now, rules);
  if (recent.length < rules.maxPerWindow) return grouped;
  const freed = (recent[recent.length - rules.maxPerWindow] as number) + rules.rateWindowMs;
  return Math.max(grouped, freed);
}

/** The notification of the pending alerts if they are due at `now`, and the state after it. */
export function flush(state: BatcherState, rules: BatcherRules, now: number): { state: BatcherState; notification: NotificationView | null } {
  const due = dueAt(state, rules, now);
  if (due === null || now < due) return { state, notification: null };
  const count = state.count + 1;
  const notification = describeAlerts(state.pending, new Date(now).toISOString(), `n${now.toString(36)}-${count}`);
  return { state: { pending: [], since: null, sentAt: [...inWindow(state.sentAt, now, rules), now], count }, notification };
}

const SEVERITY: Record<AlertKind, NotificationView['severity']> = { 'give-up': 'error', escalation: 'warning', failure: 'warning', recovery: 'info' };
/** Most serious first: the kind a group of alerts is shown as. */
const RANK: readonly AlertKind[] = ['give-up', 'escalation', 'failure', 'recovery'];
const VERB: Record<AlertKind, string> = { failure: 'failed', recovery: 'recovered', escalation: 'was handed to another node', 'give-up': 'is down: Armory gave up' };
const SHORT: Record<AlertKind, string> = { failure: 'failed', recovery: 'recovered', escalation: 'handed over', 'give-up': 'given up' };
const SINGLE_TITLE: Record<AlertKind, (what: string) => string> = {
  failure: (w) => `${w} failed`,
  recovery: (w) => `${w} recovered`,
  escalation: (w) => `${w} was handed to another node`,
  'give-up': (w) => `Armory gave up on ${w}`,
};
const MAX_LINES = 10;
const MAX_REASON = 300;

const where = (a: Alert) => (a.service === null ? `node ${a.node}` : `${a.service} on ${a.node}`);
/** A node's agent is not a service: it stops answering and answers again. */
const NODE_VERB: Partial<Record<AlertKind, string>> = { failure: 'does not answer', recovery: 'answers again' };
const verb = (a: Alert) => (a.service === null ? (NODE_VERB[a.kind] ?? VERB[a.kind]) : VERB[a.kind]);
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function line(a: Alert): string {
  const times = a.kind === 'recovery' && a.failures > 1 ? ` after ${a.failures} failures` : a.kind !== 'recovery' && a.failures > 1 ? ` (${a.failures} failures)` : '';
  return `${where(a)} ${verb(a)}${a.service === null ? '' : times}: ${cut(a.reason, MAX_REASON)}`;
}

/** One notification for a group of alerts: the most serious kind leads; one service is named in the title. */
export function describeAlerts(alerts: readonly Alert[], time: string, id: string): NotificationView {
  const kind = RANK.find((k) => alerts.some((a) => a.kind === k)) ?? 'failure';
  const services = new Set(alerts.map((a) => `${a.node}/${a.service}`));
  const first = alerts.find((a) => a.kind === kind) as Alert;
  const counted = (k: AlertKind) => new Set(alerts.filter((a) => a.kind === k).map((a) => `${a.node}/${a.service}`)).size;
  const things = alerts.some((a) => a.service === null) ? (alerts.every((a) => a.service === null) ? 'nodes' : 'nodes and services') : 'services';
  const title =
    services.size === 1
      ? first.service === null
        ? `${where(first)} ${verb(first)}`
        : SINGLE_TITLE[kind](where(first))
      : `${services.size} ${things}: ${RANK.filter((k) => counted(k) > 0)
          .map((k) => `${counted(k)} ${SHORT[k]}`)
          .join(', ')}`;
  const lines = alerts.slice(-MAX_LINES).map(line);
  if (alerts.length > MAX_LINES) lines.unshift(`… ${alerts.length - MAX_LINES} earlier alerts not shown`);
  return {
    id,
    time,
    kind,
    severity: SEVERITY[kind],
    title,
    body: lines.join('\n'),
    ...(services.size === 1 ? { node: first.node, ...(first.service !== null ? { service: first.service } : {}) } : {}),
  };
}
