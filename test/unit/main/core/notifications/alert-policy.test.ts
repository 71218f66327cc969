import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SERVICE_STATES } from '../../../../../common/wire/service-status.js';
import type { ManagerEvent } from '../../../../../main/core/events/manager-events.js';
import { alertFor, classifyTransition, emptyAlertMemory, type Alert, type AlertMemory } from '../../../../../main/core/notifications/alert-policy.js';

let seq = 0;
const ev = (from: string, to: string, cause: string, reason = `${from} → ${to}`, service = 'web', node = 'local'): ManagerEvent => ({
  seq: ++seq,
  time: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
  node,
  agentSeq: seq,
  kind: 'transition',
  service,
  from,
  to,
  reason,
  detail: { event: cause },
});

/** Runs events through the policy, returning the alerts. */
function run(events: ManagerEvent[], memory: AlertMemory = emptyAlertMemory()): Alert[] {
  const out: Alert[] = [];
  for (const e of events) {
    const r = alertFor(memory, e);
    memory = r.memory;
    if (r.alert) out.push(r.alert);
  }
  return out;
}

describe('which journal events notify', () => {
  it('a crash alerts once, a crash loop is counted, the return to running is a recovery with the count', () => {
    const alerts = run([
      ev('running', 'backing-off', 'exited', 'exit code 1: program failed; restarting per policy in 100ms'),
      ev('backing-off', 'starting', 'timer'),
      ev('starting', 'backing-off', 'exited'),
      ev('backing-off', 'starting', 'timer'),
      ev('starting', 'running', 'ready'),
    ]);
    expect(alerts.map((a) => [a.kind, a.failures])).toEqual([
      ['failure', 1],
      ['recovery', 2],
    ]);
    expect(alerts[0]?.reason).toMatch(/exit code 1/);
  });

  it('an immediate restart, a hang and a start timeout are failures; a requested restart or stop is not', () => {
    expect(classifyTransition(ev('running', 'starting', 'exited'))).toBe('failure');
    expect(classifyTransition(ev('running', 'stopping', 'hung'))).toBe('failure');
    expect(classifyTransition(ev('starting', 'stopping', 'timer'))).toBe('failure');
    expect(classifyTransition(ev('starting', 'failed', 'spawn-failed'))).toBe('give-up');
    expect(classifyTransition(ev('running', 'stopping', 'restart'))).toBeNull();
    expect(classifyTransition(ev('running', 'stopping', 'stop'))).toBeNull();
    expect(classifyTransition(ev('stopping', 'starting', 'exited'))).toBeNull();
    expect(classifyTransition(ev('backing-off', 'starting', 'timer'))).toBeNull();
    expect(classifyTransition(ev('stopping', 'stopped', 'exited'))).toBe('stopped');
    expect(classifyTransition({ ...ev('running', 'backing-off', 'exited'), kind: 'liveness' })).toBeNull();
  });

  it('escalation and give-up always alert, even in the middle of a crash loop', () => {
    const alerts = run([ev('running', 'backing-off', 'exited'), ev('starting', 'backing-off', 'exited'), ev('starting', 'escalated', 'exited', 'restart budget spent; escalating')]);
    expect(alerts.map((a) => a.kind)).toEqual(['failure', 'escalation']);
    expect(alerts[1]?.failures).toBe(2);
    expect(run([ev('running', 'failed', 'exited', 'restart budget spent; gave up')]).map((a) => a.kind)).toEqual(['give-up']);
  });

  it('a stop that was asked for ends the trouble silently: the next start is no recovery', () => {
    const alerts = run([ev('running', 'backing-off', 'exited'), ev('backing-off', 'stopped', 'stop', 'stop requested'), ev('stopped', 'starting', 'start'), ev('starting', 'running', 'ready')]);
    expect(alerts.map((a) => a.kind)).toEqual(['failure']);
  });

  it('services and nodes are tracked apart', () => {
    const alerts = run([ev('running', 'backing-off', 'exited', 'x', 'web', 'a'), ev('running', 'backing-off', 'exited', 'x', 'web', 'b'), ev('starting', 'running', 'ready', 'x', 'web', 'a')]);
    expect(alerts.map((a) => `${a.kind}:${a.node}`)).toEqual(['failure:a', 'failure:b', 'recovery:a']);
  });

  it('events without a service, and other kinds, never alert', () => {
    const { service: _s, ...noService } = ev('running', 'backing-off', 'exited');
    expect(run([noService as ManagerEvent, { ...ev('running', 'failed', 'exited'), kind: 'manager' }])).toEqual([]);
  });

  it('over any sequence of transitions: a recovery only follows a failure, escalation or give-up of that service, and never twice in a row', () => {
    const state = fc.constantFrom(...SERVICE_STATES);
    const cause = fc.constantFrom('exited', 'hung', 'spawn-failed', 'timer', 'stop', 'start', 'restart', 'ready', 'spawned');
    fc.assert(
      fc.property(fc.array(fc.tuple(state, state, cause, fc.constantFrom('a', 'b')), { maxLength: 60 }), (steps) => {
        const alerts = run(steps.map(([from, to, c, svc]) => ev(from, to, c, 'r', svc)));
        for (const svc of ['a', 'b']) {
          const kinds = alerts.filter((a) => a.service === svc).map((a) => a.kind);
          kinds.forEach((k, i) => {
            if (k === 'recovery') {
              expect(i).toBeGreaterThan(0);
              expect(kinds[i - 1]).not.toBe('recovery');
            }
          });
        }
      }),
    );
  });
});
