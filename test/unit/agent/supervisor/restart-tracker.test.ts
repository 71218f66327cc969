import fc from 'fast-check';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { restartSchema, type RestartConfig } from '../../../../common/config/service.js';
import { REASONS } from '../../../../agent/supervisor/reasons.js';
import {
  backoffDelay,
  decide,
  initialTracker,
  noteStart,
  resetTracker,
  type Decision,
  type TrackerState,
} from '../../../../agent/supervisor/restart-tracker.js';

type PolicyInput = NonNullable<z.input<typeof restartSchema>>;
const policy = (input: PolicyInput = {}): RestartConfig => restartSchema.parse(input);

/** No jitter, no minimum interval, a roomy budget: delays are exactly the backoff. */
const plain = (input: PolicyInput = {}): RestartConfig =>
  policy({ minInterval: '0ms', budget: { restarts: 1000, window: '1h' }, ...input, backoff: { jitter: 0, ...input.backoff } });

const MID = 0.5; // rand 0.5 means no jitter either way

/**
 * Drives the tracker like the supervisor does: start at `at`, the run ends `ranFor` ms later, the
 * restart happens after the decided delay.
 */
class Clock {
  now = 1_000_000;
  state: TrackerState = initialTracker();
  constructor(private readonly p: RestartConfig, private readonly canEscalate = false) {}

  start(): void {
    this.state = noteStart(this.state, this.now);
  }

  /** The current run ends after `ranFor` ms; returns the decision, and restarts when told to. */
  end(ranFor: number, options: { clean?: boolean; rand?: number } = {}): Decision {
    this.now += ranFor;
    const r = decide(this.p, this.state, { at: this.now, clean: options.clean ?? false, rand: options.rand ?? MID }, { canEscalate: this.canEscalate });
    this.state = r.state;
    if (r.decision.action === 'restart') {
      this.now += r.decision.delayMs;
      this.start();
    }
    return r.decision;
  }
}

const delayOf = (d: Decision): number => {
  if (d.action !== 'restart') throw new Error(`expected a restart, got ${d.action}: ${d.reason}`);
  return d.delayMs;
};

describe('restart tracker: backoff', () => {
  it('restarts at once after a stable run', () => {
    const c = new Clock(policy());
    c.start();
    expect(c.end(60_000)).toEqual({ action: 'restart', delayMs: 0, reason: REASONS.crashed });
  });

  it('restarts the very first failure at once, subject only to the minimum interval', () => {
    const c = new Clock(policy({ minInterval: '100ms' }));
    c.start();
    expect(delayOf(c.end(30))).toBe(70);
  });

  it('backs off initial·factor^(n-2) for the n-th failure in a row, capped at max', () => {
    const c = new Clock(plain({ backoff: { initial: '100ms', factor: 2, max: '1s' } }));
    c.start();
    const delays = Array.from({ length: 8 }, () => delayOf(c.end(10)));
    expect(delays).toEqual([0, 100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('uses the factor it is given', () => {
    const c = new Clock(plain({ backoff: { initial: '50ms', factor: 3, max: '1h' } }));
    c.start();
    expect(Array.from({ length: 5 }, () => delayOf(c.end(1)))).toEqual([0, 50, 150, 450, 1350]);
  });

  it('starts the backoff again after a run of at least stableAfter', () => {
    const c = new Clock(plain({ backoff: { initial: '100ms' }, stableAfter: '10s' }));
    c.start();
    expect([c.end(5), c.end(5), c.end(5)].map(delayOf)).toEqual([0, 100, 200]);
    expect(delayOf(c.end(10_000))).toBe(0);
    expect(delayOf(c.end(5))).toBe(100);
  });

  it('does not reset the backoff after a run just short of stableAfter', () => {
    const c = new Clock(plain({ backoff: { initial: '100ms' }, stableAfter: '10s' }));
    c.start();
    expect([c.end(5), c.end(5), c.end(9_999)].map(delayOf)).toEqual([0, 100, 200]);
  });

  it('never restarts sooner than minInterval after the previous start', () => {
    const c = new Clock(plain({ minInterval: '2s', backoff: { initial: '100ms' } }));
    c.start();
    expect(delayOf(c.end(500))).toBe(1500);
    expect(delayOf(c.end(0))).toBe(2000); // backoff 100ms, but the start was just now
    expect(delayOf(c.end(1900))).toBe(200); // backoff 200ms beats the 100ms left of minInterval
  });

  it('keeps the jitter within ±jitter of the backoff and within max (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 2, max: 30 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (initial, factor, max, jitter, n, rand) => {
          const p = policy({ backoff: { initial: `${initial}ms`, factor, max: `${max}ms`, jitter } });
          const base = Math.min(max, initial * factor ** (n - 2));
          const d = backoffDelay(p, n, rand);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeLessThanOrEqual(max);
          expect(d).toBeGreaterThanOrEqual(Math.floor(base * (1 - jitter)));
          expect(d).toBeLessThanOrEqual(Math.ceil(base * (1 + jitter)));
        },
      ),
    );
  });

  it('jitters both ways: low rand shortens, high rand lengthens', () => {
    const p = policy({ backoff: { initial: '1s', factor: 2, max: '1m', jitter: 0.1 } });
    expect(backoffDelay(p, 2, 0)).toBe(900);
    expect(backoffDelay(p, 2, 0.5)).toBe(1000);
    expect(backoffDelay(p, 2, 0.999_999)).toBe(1100);
    expect(backoffDelay(p, 1, 0.999_999)).toBe(0);
  });
});

describe('restart tracker: budget', () => {
  const budget = (exhausted: 'give-up' | 'escalate') => plain({ budget: { restarts: 3, window: '10s' }, exhausted });

  it('allows N restarts within the window, then gives up (exhausted: give-up)', () => {
    const c = new Clock(budget('give-up'));
    c.start();
    expect([c.end(10), c.end(10), c.end(10)].map((d) => d.action)).toEqual(['restart', 'restart', 'restart']);
    expect(c.end(10)).toEqual({ action: 'give-up', reason: REASONS.budgetGiveUp });
  });

  it('escalates when the budget is spent and another node can take over', () => {
    const c = new Clock(budget('escalate'), true);
    c.start();
    c.end(10);
    c.end(10);
    c.end(10);
    expect(c.end(10)).toEqual({ action: 'escalate', reason: REASONS.budgetEscalate });
  });

  it('gives up with the no-other-node reason when it should escalate but cannot', () => {
    const c = new Clock(budget('escalate'), false);
    c.start();
    c.end(10);
    c.end(10);
    c.end(10);
    expect(c.end(10)).toEqual({ action: 'give-up', reason: REASONS.budgetNoNode });
  });

  it('forgets restarts that fell out of the window', () => {
    const p = budget('give-up');
    // three restarts at t = 0, 100, 200
    const state: TrackerState = { restartTimes: [0, 100, 200], consecutive: 3, lastStartAt: 200, totalRestarts: 3 };
    expect(decide(p, state, { at: 5_000, clean: false, rand: MID }, { canEscalate: false }).decision.action).toBe('give-up');
    expect(decide(p, state, { at: 9_999, clean: false, rand: MID }, { canEscalate: false }).decision.action).toBe('give-up');
    // 10s after the first restart, it no longer counts
    const later = decide(p, state, { at: 10_000, clean: false, rand: MID }, { canEscalate: false });
    expect(later.decision.action).toBe('restart');
    expect(later.state.restartTimes).toEqual([100, 200, 10_000]);
    expect(later.state.totalRestarts).toBe(4);
  });

  it('counts restarts in a sliding window (property: never more than N restarts in any window)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 40 }), (n, runs) => {
        const p = plain({ budget: { restarts: n, window: '10s' }, exhausted: 'give-up' });
        let state = noteStart(initialTracker(), 0);
        let now = 0;
        const restarts: number[] = [];
        for (const ranFor of runs) {
          now += ranFor;
          const r = decide(p, state, { at: now, clean: false, rand: MID }, { canEscalate: false });
          state = r.state;
          if (r.decision.action !== 'restart') {
            expect(restarts.filter((t) => t > now - 10_000)).toHaveLength(n);
            break;
          }
          restarts.push(now);
          now += r.decision.delayMs;
          state = noteStart(state, now);
          expect(restarts.filter((t) => t > now - 10_000).length).toBeLessThanOrEqual(n);
        }
      }),
    );
  });

  it('gives up on the first failure with a budget of 0', () => {
    const c = new Clock(plain({ budget: { restarts: 0, window: '1m' }, exhausted: 'give-up' }));
    c.start();
    expect(c.end(60_000).action).toBe('give-up');
  });
});

describe('restart tracker: policy', () => {
  it.each([
    ['never', 'failure', false, { action: 'give-up', reason: REASONS.policyNever }],
    ['never', 'clean exit', true, { action: 'done', reason: REASONS.exitedCleanly }],
    ['on-failure', 'clean exit', true, { action: 'done', reason: REASONS.exitedCleanly }],
    ['on-failure', 'failure', false, { action: 'restart', delayMs: 0, reason: REASONS.crashed }],
    ['always', 'clean exit', true, { action: 'restart', delayMs: 0, reason: REASONS.exitedRestart }],
    ['always', 'failure', false, { action: 'restart', delayMs: 0, reason: REASONS.crashed }],
  ] as const)('policy %s, %s', (name, _label, clean, expected) => {
    const c = new Clock(policy({ policy: name }));
    c.start();
    expect(c.end(60_000, { clean })).toEqual(expected);
  });

  it('does not back off clean exits under policy always', () => {
    const c = new Clock(plain({ policy: 'always', backoff: { initial: '1s' } }));
    c.start();
    expect([c.end(1, { clean: true }), c.end(1, { clean: true }), c.end(1, { clean: true })].map(delayOf)).toEqual([0, 0, 0]);
  });

  it('still counts clean restarts against the budget', () => {
    const c = new Clock(plain({ policy: 'always', budget: { restarts: 2, window: '1m' }, exhausted: 'give-up' }));
    c.start();
    expect([c.end(1, { clean: true }), c.end(1, { clean: true }), c.end(1, { clean: true })].map((d) => d.action)).toEqual([
      'restart',
      'restart',
      'give-up',
    ]);
  });
});

describe('restart tracker: state', () => {
  it('records starts, restarts and failures in a row', () => {
    const c = new Clock(plain());
    c.start();
    expect(c.state.lastStartAt).toBe(c.now);
    c.end(10);
    c.end(10);
    expect(c.state).toMatchObject({ consecutive: 2, totalRestarts: 2 });
    expect(c.state.restartTimes).toHaveLength(2);
  });

  it('resetTracker forgets the budget and the backoff but not the totals', () => {
    const s: TrackerState = { restartTimes: [1, 2, 3], consecutive: 3, lastStartAt: 3, totalRestarts: 7 };
    expect(resetTracker(s)).toEqual({ restartTimes: [], consecutive: 0, lastStartAt: 3, totalRestarts: 7 });
  });

  it('does not change the state it is given', () => {
    const s: TrackerState = Object.freeze({ restartTimes: Object.freeze([1]) as number[], consecutive: 1, lastStartAt: 1, totalRestarts: 1 });
    expect(() => decide(policy(), s, { at: 5, clean: false, rand: MID }, { canEscalate: false })).not.toThrow();
    expect(s).toEqual({ restartTimes: [1], consecutive: 1, lastStartAt: 1, totalRestarts: 1 });
  });
});
