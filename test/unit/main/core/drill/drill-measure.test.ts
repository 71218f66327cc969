import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDetection, measureDrill, probeSpans, type JournalEntry, type ProbeSample } from '../../../../../main/core/drill/drill-measure.js';

const FAULT = 1_000_000;
const budget = { detectMs: 400, startMs: 100, arpMs: 20, totalMs: 520 };

/** Probes every 10 ms from -100 ms to `until` ms around the fault; those in [down, up) fail. */
function probes(down: number, up: number, until = 2000): ProbeSample[] {
  const out: ProbeSample[] = [];
  for (let t = -100; t <= until; t += 10) out.push({ t: FAULT + t, ok: t < down || t >= up });
  return out;
}

const ev = (ms: number, e: Omit<JournalEntry, 't'>): JournalEntry => ({ t: FAULT + ms, ...e });
const failover: JournalEntry[] = [
  ev(-5000, { node: 'a', kind: 'transition', service: 'web', from: 'starting', to: 'running', reason: 'ready' }),
  ev(0, { node: 'a', kind: 'drill', service: 'web', reason: 'drill x: SIGKILL' }),
  ev(380, { node: 'b', kind: 'failover', from: 'standby', to: 'candidate', reason: 'group g: a silent', detail: { group: 'g' } }),
  ev(420, { node: 'b', kind: 'failover', from: 'candidate', to: 'taking-over', reason: 'group g: takeover', detail: { group: 'g' } }),
  ev(470, { node: 'b', kind: 'transition', service: 'web', from: 'starting', to: 'running', reason: 'ready' }),
];

describe('the drill\'s figures', () => {
  it('measures detection, recovery and outage from the journals and the probes, within budget', () => {
    const m = measureDrill({ faultAt: FAULT, service: 'web', group: 'g', nodeBefore: 'a', budget, probes: probes(0, 490), events: failover });
    expect(m).toMatchObject({ detectionMs: 380, recoveryMs: 470, outageMs: 490, failedProbes: 49, nodeAfter: 'b', verdict: 'within-budget', downAtEnd: false });
    expect(m.events.filter((e) => e.role !== 'other').map((e) => [e.role, e.atMs])).toEqual([
      ['detection', 380],
      ['recovery', 470],
    ]);
    // Only what happened from a second before the fault is in the timeline.
    expect(m.events.every((e) => e.atMs >= -1000)).toBe(true);
  });

  it('is over budget when the clients waited longer than the budget, and not recovered when the last probe failed', () => {
    expect(measureDrill({ faultAt: FAULT, service: 'web', group: 'g', nodeBefore: 'a', budget, probes: probes(0, 900), events: failover }).verdict).toBe('over-budget');
    const down = measureDrill({ faultAt: FAULT, service: 'web', group: 'g', nodeBefore: 'a', budget, probes: probes(0, 99_999), events: failover.slice(0, 3) });
    expect(down).toMatchObject({ verdict: 'not-recovered', outageMs: null, recoveryMs: null, nodeAfter: null, detectionMs: 380 });
    expect(measureDrill({ faultAt: FAULT, service: 'web', group: null, nodeBefore: 'a', budget: null, probes: probes(0, 300), events: failover }).verdict).toBe('no-budget');
  });

  it('spans the whole disruption when the probes flap, and ignores failures before the fault', () => {
    const p = probes(50, 100).map((s) => (s.t >= FAULT + 200 && s.t < FAULT + 250 ? { ...s, ok: false } : s.t < FAULT - 50 ? { ...s, ok: false } : s));
    const m = measureDrill({ faultAt: FAULT, service: 'web', group: 'g', nodeBefore: 'a', budget, probes: p, events: [] });
    expect(m.outageMs).toBe(200);
    expect(m.failedProbes).toBe(10);
    expect(m.detectionMs).toBeNull();
    expect(m.nodeAfter).toBe('a');
  });

  it('counts step-downs, takeovers, liveness and a program leaving running as detection, nothing of other groups or services', () => {
    const base = { node: 'a', reason: '' };
    expect(isDetection({ ...base, t: 0, kind: 'failover', from: 'active', to: 'stepping-down', detail: { group: 'g' } }, 'web', 'g')).toBe(true);
    expect(isDetection({ ...base, t: 0, kind: 'failover', from: 'active', to: 'stepping-down', detail: { group: 'h' } }, 'web', 'g')).toBe(false);
    expect(isDetection({ ...base, t: 0, kind: 'liveness', service: 'web' }, 'web', null)).toBe(true);
    expect(isDetection({ ...base, t: 0, kind: 'transition', service: 'web', from: 'running', to: 'backing-off' }, 'web', null)).toBe(true);
    expect(isDetection({ ...base, t: 0, kind: 'transition', service: 'db', from: 'running', to: 'backing-off' }, 'web', null)).toBe(false);
    expect(isDetection({ ...base, t: 0, kind: 'drill', service: 'web' }, 'web', 'g')).toBe(false);
  });

  it('probe spans cover every sample once, alternate, and keep their order', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 300 }), (oks) => {
        const samples = oks.map((ok, i) => ({ t: FAULT + i * 10, ok }));
        const spans = probeSpans(samples, FAULT);
        expect(spans.reduce((n, s) => n + s.count, 0)).toBe(samples.length);
        for (let i = 1; i < spans.length; i += 1) {
          expect(spans[i]?.ok).not.toBe(spans[i - 1]?.ok);
          expect((spans[i]?.fromMs ?? 0) > (spans[i - 1]?.toMs ?? 0)).toBe(true);
        }
      }),
    );
  });

  it('the outage never exceeds the time from the fault to the end, nor is negative', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 200 }), (oks) => {
        const samples = oks.map((ok, i) => ({ t: FAULT + i * 10, ok }));
        const m = measureDrill({ faultAt: FAULT, service: 'web', group: null, nodeBefore: 'a', budget: null, probes: samples, events: [] });
        if (m.outageMs !== null) {
          expect(m.outageMs).toBeGreaterThan(0);
          expect(m.outageMs).toBeLessThanOrEqual((oks.length - 1) * 10);
        }
        expect(m.downAtEnd).toBe(!oks.at(-1));
        expect(m.failedProbes).toBe(oks.filter((o) => !o).length);
      }),
    );
  });
});
