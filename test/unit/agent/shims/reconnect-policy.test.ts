import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attemptTimeouts, reconnectDelay, reconnectPolicy } from '../../../../agent/shims/reconnect-policy.js';

describe('the shim client end\'s reconnect policy', () => {
  it('tries at once when the path breaks and once more at once, then backs off with jitter up to one heartbeat (100 ms to 1 s)', () => {
    const p = reconnectPolicy(200);
    expect(reconnectDelay(p, 0, 0.99)).toBe(0);
    expect(reconnectDelay(p, 1, 0.99)).toBe(0);
    expect([2, 3, 4, 5, 6, 20].map((t) => reconnectDelay(p, t, 0.999))).toEqual([25, 50, 100, 200, 200, 200]);
    expect([2, 3, 8].map((t) => reconnectDelay(p, t, 0))).toEqual([13, 25, 100]);
    expect([5, 9, 20].map((t) => reconnectDelay(reconnectPolicy(1000), t, 0.999))).toEqual([200, 1000, 1000]);
    expect(reconnectDelay(reconnectPolicy(10), 20, 0.999)).toBe(100);
  });

  it('at a 200 ms heartbeat: 200 ms for the connect and 1 s for the answer at first, doubling with each try that ran out of time, up to 4 s', () => {
    const p = reconnectPolicy(200);
    expect([0, 1, 2, 3, 4, 5].map((t) => attemptTimeouts(p, t))).toEqual([
      { connectMs: 200, answerMs: 1000 },
      { connectMs: 400, answerMs: 2000 },
      { connectMs: 800, answerMs: 4000 },
      { connectMs: 1600, answerMs: 4000 },
      { connectMs: 3200, answerMs: 4000 },
      { connectMs: 4000, answerMs: 4000 },
    ]);
  });

  it('at the default 1 s heartbeat: a connect is given 250 ms first (a lost SYN is sent again only after 1 s), an answer 2 s', () => {
    expect(attemptTimeouts(reconnectPolicy(1000), 0)).toEqual({ connectMs: 250, answerMs: 2000 });
    expect(attemptTimeouts(reconnectPolicy(60_000), 2)).toEqual({ connectMs: 1000, answerMs: 120_000 });
  });

  it('for any heartbeat and try: bounded delays and timeouts, the connect within the attempt, none shorter than the first try\'s', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 60_000 }), fc.integer({ min: 0, max: 10_000 }), fc.double({ min: 0, max: 0.999_999, noNaN: true }), (hb, tries, r) => {
        const p = reconnectPolicy(hb);
        const d = reconnectDelay(p, tries, r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(Math.max(100, Math.min(1000, hb)));
        expect(reconnectDelay(p, tries + 1, 0.999_999)).toBeGreaterThanOrEqual(reconnectDelay(p, tries, 0.999_999));
        const t = attemptTimeouts(p, tries);
        expect(t.connectMs).toBeGreaterThanOrEqual(Math.min(p.connectMs, t.answerMs));
        expect(t.connectMs).toBeLessThanOrEqual(t.answerMs);
        expect(t.answerMs).toBeGreaterThanOrEqual(p.answerMs);
        expect(t.answerMs).toBeGreaterThanOrEqual(1000);
        expect(t.answerMs).toBeLessThanOrEqual(Math.max(4000, 2 * hb));
        expect(Number.isFinite(t.connectMs) && t.connectMs >= 20).toBe(true);
      }),
    );
  });
});
