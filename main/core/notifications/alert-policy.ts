import type { AlertKind } from '../../../common/bridge/settings.js';
import type { ManagerEvent } from '../events/manager-events.js';

/** One thing worth telling the user about one service. */
export interface Alert {
  readonly kind: AlertKind;
  readonly node: string;
  /** null: the alert is about the node's agent itself (it stopped or started answering). */
  readonly service: string | null;
  readonly time: string;
  /** The journal's words for it, e.g. "exit code 1: program failed; restarting per policy in 100ms". */
  readonly reason: string;
  /** Failures of this service since it was last healthy (1 for the first). */
  readonly failures: number;
  /** The manager journal's sequence number of the event behind it. */
  readonly seq: number;
}

/** What the policy remembers of one service: whether it is in trouble and how often it failed since. */
export interface ServiceMemory {
  readonly troubled: boolean;
  readonly failures: number;
}

/** Per `node/service`; a service absent here is healthy. */
export type AlertMemory = ReadonlyMap<string, ServiceMemory>;

export const emptyAlertMemory = (): AlertMemory => new Map();

/** Supervisor events that mean the run ended on its own (not by a stop that was asked for). */
const FAILURE_CAUSES = new Set(['exited', 'hung', 'spawn-failed']);
const UP_STATES = new Set(['running', 'starting']);

/** Which alert, if any, a journal transition is (before memory: a repeated failure is still a failure here). */
export function classifyTransition(e: Pick<ManagerEvent, 'kind' | 'from' | 'to' | 'detail'>): AlertKind | 'healthy' | 'stopped' | null {
  if (e.kind !== 'transition') return null;
  if (e.to === 'failed') return 'give-up';
  if (e.to === 'escalated') return 'escalation';
  if (e.to === 'running') return 'healthy';
  if (e.to === 'stopped') {
    const cause = typeof e.detail?.event === 'string' ? e.detail.event : '';
    // A run that ended on its own and is not restarted (policy never, or a clean exit under
    // on-failure) is over, not a failure; a stop that was asked for is the user's doing.
    return cause === 'exited' && e.from !== 'stopping' ? null : 'stopped';
  }
  const cause = typeof e.detail?.event === 'string' ? e.detail.event : '';
  const fromUp = e.from !== undefined && UP_STATES.has(e.from);
  if (fromUp && FAILURE_CAUSES.has(cause)) return 'failure';
  // The start timeout fired: the program never became ready.
  if (e.from === 'starting' && e.to === 'stopping' && cause === 'timer') return 'failure';
  return null;
}

/**
 * The notification policy: which journal events become alerts. A service's first failure alerts;
 * further failures while it is still in trouble are only counted (a crash loop is one alert, not
 * fifty); its return to running is a recovery, with the count; an escalation or a give-up always
 * alerts. A stop that was asked for ends the trouble silently. Pure: memory in, memory out.
 */
export function alertFor(memory: AlertMemory, e: ManagerEvent): { memory: AlertMemory; alert: Alert | null } {
  if (e.service === undefined) return { memory, alert: null };
  const what = classifyTransition(e);
  if (what === null) return { memory, alert: null };
  const key = `${e.node}/${e.service}`;
  const was = memory.get(key) ?? { troubled: false, failures: 0 };
  const next = new Map(memory);
  const alert = (kind: AlertKind, failures: number): Alert => ({ kind, node: e.node, service: e.service as string, time: e.time, reason: e.reason, failures, seq: e.seq });
  switch (what) {
    case 'healthy':
      next.delete(key);
      return { memory: next, alert: was.troubled ? alert('recovery', was.failures) : null };
    case 'stopped':
      next.delete(key);
      return { memory: next, alert: null };
    case 'failure': {
      const failures = was.failures + 1;
      next.set(key, { troubled: true, failures });
      return { memory: next, alert: was.troubled ? null : alert('failure', failures) };
    }
    case 'escalation':
    case 'give-up': {
      const failures = Math.max(was.failures, 1);
      next.set(key, { troubled: true, failures });
      return { memory: next, alert: alert(what, failures) };
    }
    default:
      return { memory, alert: null };
  }
}

/** The alert for a node whose agent stops answering the manager (a failure) or answers again (a recovery). */
export function reachabilityAlert(node: string, answers: boolean, time: string, reason: string): Alert {
  return { kind: answers ? 'recovery' : 'failure', node, service: null, time, reason, failures: 1, seq: 0 };
}
