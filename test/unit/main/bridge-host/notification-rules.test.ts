import { describe, expect, it } from 'vitest';
import type { EventView } from '../../../../common/bridge/events.js';
import { NotificationRules } from '../../../../main/bridge-host/notification-rules.js';

let seq = 0;
// What the supervisor's transitions carry: the supervisor event that caused them (an exit unless said).
const t = (from: string | undefined, to: string, at: number, reason = 'why', event = 'exited'): EventView => ({
  seq: ++seq,
  agentSeq: seq,
  time: new Date(1_700_000_000_000 + at).toISOString(),
  node: 'local',
  kind: 'transition',
  service: 'web',
  ...(from ? { from } : {}),
  to,
  reason,
  detail: { event },
});

const kinds = (rules: NotificationRules, events: EventView[]) => events.map((e) => rules.notify(e)?.kind ?? null);

describe('notification rules', () => {
  it('tells a crash, then its recovery with the time it took, once each', () => {
    const rules = new NotificationRules();
    const out = [t(undefined, 'starting', 0, 'start', 'start'), t('starting', 'running', 10, 'ready', 'ready'), t('running', 'backing-off', 1000, 'killed by SIGKILL'), t('backing-off', 'starting', 1500), t('starting', 'running', 2200), t('running', 'running', 2300)].map((e) => rules.notify(e));
    expect(out.map((n) => n?.kind ?? null)).toEqual([null, null, 'failure', null, 'recovery', null]);
    expect(out[2]?.title).toBe('web on local stopped unexpectedly');
    expect(out[2]?.body).toMatch(/^killed by SIGKILL\. Armory restarts it\.$/);
    expect(out[4]?.body).toBe('Running again after 1.2 s.');
  });

  it('tells an escalation and a give-up as errors, and no recovery after a deliberate stop', () => {
    const rules = new NotificationRules();
    expect(kinds(rules, [t('starting', 'running', 0), t('running', 'escalated', 10)])).toEqual([null, 'escalation']);
    expect(kinds(rules, [t('backing-off', 'failed', 20)])).toEqual(['give-up']);
    expect(kinds(rules, [t('failed', 'stopped', 30, 'stopped by the user', 'stop'), t('stopped', 'starting', 40, 'start', 'start'), t('starting', 'running', 50)])).toEqual([null, null, null]);
  });

  it('counts a failed start after a crash as the same failure', () => {
    const rules = new NotificationRules();
    expect(kinds(rules, [t('running', 'backing-off', 0), t('backing-off', 'starting', 10), t('starting', 'backing-off', 20), t('backing-off', 'starting', 30), t('starting', 'running', 40)])).toEqual(['failure', null, null, null, 'recovery']);
  });

  it('ignores events that are not transitions', () => {
    const rules = new NotificationRules();
    expect(rules.notify({ ...t('running', 'failed', 0), kind: 'config' })).toBeNull();
  });
});
