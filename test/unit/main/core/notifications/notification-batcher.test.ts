import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertKind } from '../../../../../common/bridge/settings.js';
import { notificationSchema } from '../../../../../common/bridge/events.js';
import { reachabilityAlert, type Alert } from '../../../../../main/core/notifications/alert-policy.js';
import { addAlert, describeAlerts, dueAt, emptyBatcher, flush, type BatcherRules, type BatcherState } from '../../../../../main/core/notifications/notification-batcher.js';

const rules: BatcherRules = { groupWindowMs: 2000, maxPerWindow: 3, rateWindowMs: 60_000 };
const alert = (kind: AlertKind, service = 'web', node = 'local', failures = 1): Alert => ({ kind, node, service, time: '2026-01-01T00:00:00.000Z', reason: `${kind} reason`, failures, seq: 1 });

describe('grouping and rate limiting of notifications', () => {
  it('alerts within the group window leave together as one notification, after the window', () => {
    let s = addAlert(emptyBatcher(), alert('failure', 'web'), 1000);
    s = addAlert(s, alert('failure', 'db'), 1500);
    expect(dueAt(s, rules, 1500)).toBe(3000);
    expect(flush(s, rules, 2999).notification).toBeNull();
    const r = flush(s, rules, 3000);
    expect(r.notification).toMatchObject({ kind: 'failure', severity: 'warning', title: '2 services: 2 failed' });
    expect(r.notification?.service).toBeUndefined();
    expect(r.notification?.body.split('\n')).toHaveLength(2);
    expect(r.state.pending).toEqual([]);
    expect(dueAt(r.state, rules, 3000)).toBeNull();
  });

  it('one service is named in the title and the notification points at it (a click opens it)', () => {
    const n = describeAlerts([alert('failure'), alert('recovery', 'web', 'local', 3)], 't', 'id');
    expect(n).toMatchObject({ kind: 'failure', title: 'web on local failed', node: 'local', service: 'web' });
    expect(n.body).toContain('web on local recovered after 3 failures');
    expect(describeAlerts([alert('give-up')], 't', 'id')).toMatchObject({ kind: 'give-up', severity: 'error', title: 'Armory gave up on web on local' });
    expect(describeAlerts([alert('escalation')], 't', 'id')).toMatchObject({ severity: 'warning', title: 'web on local was handed to another node' });
    expect(describeAlerts([alert('recovery')], 't', 'id')).toMatchObject({ severity: 'info', title: 'web on local recovered' });
  });

  it('a node whose agent stops answering is named as a node, alone or among services', () => {
    const down = reachabilityAlert('b', false, 't', 'connect ECONNREFUSED 198.18.0.2:7443');
    expect(describeAlerts([down], 't', 'id')).toMatchObject({ kind: 'failure', title: 'node b does not answer', node: 'b', body: 'node b does not answer: connect ECONNREFUSED 198.18.0.2:7443' });
    expect(describeAlerts([down], 't', 'id').service).toBeUndefined();
    expect(describeAlerts([reachabilityAlert('b', true, 't', 'ok')], 't', 'id')).toMatchObject({ kind: 'recovery', title: 'node b answers again' });
    expect(describeAlerts([down, alert('failure', 'web', 'a')], 't', 'id').title).toBe('2 nodes and services: 2 failed');
  });

  it('the most serious kind leads a group', () => {
    const n = describeAlerts([alert('recovery', 'a'), alert('failure', 'b'), alert('give-up', 'c'), alert('escalation', 'd')], 't', 'id');
    expect(n).toMatchObject({ kind: 'give-up', severity: 'error', title: '4 services: 1 given up, 1 handed over, 1 failed, 1 recovered' });
  });

  it('past maxPerWindow, alerts wait until the window frees a slot and come as one, none dropped', () => {
    let s: BatcherState = emptyBatcher();
    let t = 0;
    const sent: number[] = [];
    for (let i = 0; i < 3; i++) {
      s = addAlert(s, alert('failure', `s${i}`), t);
      t += rules.groupWindowMs;
      const r = flush(s, rules, t);
      expect(r.notification).not.toBeNull();
      sent.push(t);
      s = r.state;
    }
    for (let i = 3; i < 10; i++) s = addAlert(s, alert('failure', `s${i}`), t + i);
    expect(dueAt(s, rules, t + 10)).toBe((sent[0] as number) + rules.rateWindowMs);
    expect(flush(s, rules, t + 30_000).notification).toBeNull();
    const r = flush(s, rules, (sent[0] as number) + rules.rateWindowMs);
    expect(r.notification?.title).toBe('7 services: 7 failed');
  });

  it('a long group shows the latest ten lines and says how many are left out', () => {
    const many = Array.from({ length: 25 }, (_, i) => alert('failure', `s${i}`));
    const n = describeAlerts(many, 't', 'id');
    const lines = n.body.split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[0]).toMatch(/15 earlier alerts not shown/);
  });

  it('over any arrival times: every alert leaves exactly once, never more than maxPerWindow per window, and each notification fits the bridge schema', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 80 }), (gaps) => {
        let s: BatcherState = emptyBatcher();
        let clock = 0;
        let delivered = 0;
        const times: number[] = [];
        const advance = (to: number) => {
          for (let due = dueAt(s, rules, clock); due !== null && due <= to; due = dueAt(s, rules, clock)) {
            clock = Math.max(clock, due);
            const before = s.pending.length;
            const r = flush(s, rules, clock);
            s = r.state;
            if (!r.notification) continue;
            notificationSchema.parse(r.notification);
            delivered += before;
            times.push(clock);
          }
          clock = Math.max(clock, to);
        };
        let t = 0;
        for (const g of gaps) {
          t += g;
          advance(t);
          s = addAlert(s, alert('failure', `s${t}`), t);
        }
        advance(t + 10 * rules.rateWindowMs);
        expect(delivered).toBe(gaps.length);
        for (const start of times) expect(times.filter((x) => x >= start && x < start + rules.rateWindowMs).length).toBeLessThanOrEqual(rules.maxPerWindow);
        expect(s.pending).toEqual([]);
      }),
    );
  });
});
