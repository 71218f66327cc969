import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { step } from '../../../../common/fsm/table.js';
import { SERVICE_STATES } from '../../../../common/wire/service-status.js';
import { REASONS } from '../../../../agent/supervisor/reasons.js';
import { decide } from '../../../../agent/supervisor/restart-tracker.js';
import {
  PUBLIC_STATE,
  SUPERVISOR_EVENT_TYPES,
  SUPERVISOR_STATES,
  SUPERVISOR_TABLE,
  type SupervisorCtx,
  type SupervisorEffect,
  type SupervisorEvent,
  type SupervisorState,
} from '../../../../agent/supervisor/state-table.js';
import { KILL_WAIT_MS, supervisorCtx } from './supervisor-ctx.js';

const NOW = 1_000_000;
const PID = 4242;

type EventType = (typeof SUPERVISOR_EVENT_TYPES)[number];

/** Representative events of every type (several for `exited`, whose fields change the outcome). */
const EVENTS: Readonly<Record<EventType, readonly SupervisorEvent[]>> = {
  start: [{ type: 'start' }, { type: 'start', reason: 'clicked start' }],
  stop: [{ type: 'stop' }, { type: 'stop', reason: 'clicked stop' }],
  restart: [{ type: 'restart' }],
  spawned: [{ type: 'spawned', pid: PID }],
  'spawn-failed': [{ type: 'spawn-failed', error: 'ENOENT: no such file' }],
  ready: [{ type: 'ready' }],
  exited: [
    { type: 'exited', code: 0, signal: null, rand: 0.5 },
    { type: 'exited', code: 1, signal: null, rand: 0 },
    { type: 'exited', code: null, signal: 'SIGSEGV', rand: 0.99 },
    { type: 'exited', code: null, signal: null, rand: 0.5 },
  ],
  timer: [{ type: 'timer' }],
  hung: [{ type: 'hung', detail: 'probe tcp 127.0.0.1:6379 failed 3 times' }],
  adopted: [{ type: 'adopted', pid: PID, startedAt: NOW - 60_000 }],
  extend: [{ type: 'extend', ms: 5000 }, { type: 'extend', ms: 0 }],
};

const spentBudget = { restartTimes: [NOW - 500, NOW - 400, NOW - 300, NOW - 200, NOW - 100], consecutive: 5, lastStartAt: NOW - 100, totalRestarts: 5 };

/** Contexts that reach every branch: fresh, readiness, budget spent, each afterStop, each policy. */
const CONTEXTS: readonly [string, SupervisorCtx][] = [
  ['fresh', supervisorCtx()],
  ['running with a pid', supervisorCtx({}, { pid: PID, desired: 'up', tracker: { restartTimes: [], consecutive: 0, lastStartAt: NOW - 60_000, totalRestarts: 0 } })],
  ['needs readiness', supervisorCtx({ notify: true }, { needsReadiness: true })],
  ['failing fast', supervisorCtx({}, { pid: PID, desired: 'up', tracker: { restartTimes: [NOW - 50], consecutive: 3, lastStartAt: NOW - 10, totalRestarts: 1 } })],
  ['budget spent, can escalate', supervisorCtx({}, { pid: PID, canEscalate: true, tracker: spentBudget })],
  ['budget spent, give up', supervisorCtx({ restart: { exhausted: 'give-up' } }, { pid: PID, tracker: spentBudget })],
  ['after stop: start', supervisorCtx({}, { pid: PID, afterStop: 'start', desired: 'up' })],
  ['after stop: policy (hung)', supervisorCtx({}, { pid: PID, afterStop: 'policy', failure: 'hung (probe)', desired: 'up' })],
  ['policy never', supervisorCtx({ restart: { policy: 'never' } }, { pid: PID })],
  ['policy on-failure', supervisorCtx({ restart: { policy: 'on-failure' } }, { pid: PID })],
  ['no grace', supervisorCtx({ stop: { grace: '0s' } }, { pid: PID })],
];

function apply(state: SupervisorState, ctx: SupervisorCtx, event: SupervisorEvent, now = NOW) {
  return step(SUPERVISOR_TABLE, state, ctx, event, now);
}

/** Steps through events in order, the clock advancing by `tick` ms per event. */
function run(state: SupervisorState, ctx: SupervisorCtx, events: readonly SupervisorEvent[], tick = 1) {
  const results = [];
  let now = NOW;
  for (const e of events) {
    const r = apply(state, ctx, e, now);
    results.push(r);
    state = r.to;
    ctx = r.ctx;
    now += tick;
  }
  return { state, ctx, results, last: results.at(-1) };
}

const timers = (effects: readonly SupervisorEffect[]) => effects.filter((e): e is Extract<SupervisorEffect, { kind: 'timer' }> => e.kind === 'timer');

describe('supervisor table: exhaustive', () => {
  it('knows every event type it lists, and lists every event type somewhere', () => {
    const listed = new Set(SUPERVISOR_STATES.flatMap((s) => Object.keys(SUPERVISOR_TABLE[s])));
    expect([...listed].sort()).toEqual([...SUPERVISOR_EVENT_TYPES].sort());
    expect(Object.keys(SUPERVISOR_TABLE).sort()).toEqual([...SUPERVISOR_STATES].sort());
  });

  it('accepts exactly these events in each state', () => {
    const accepted = Object.fromEntries(SUPERVISOR_STATES.map((s) => [s, SUPERVISOR_EVENT_TYPES.filter((t) => apply(s, supervisorCtx(), EVENTS[t][0] as SupervisorEvent).handled)]));
    expect(accepted).toEqual({
      stopped: ['start', 'stop', 'restart', 'adopted'],
      starting: ['start', 'stop', 'restart', 'spawned', 'spawn-failed', 'ready', 'exited', 'timer', 'hung', 'extend'],
      running: ['start', 'stop', 'restart', 'exited', 'hung'],
      'backing-off': ['start', 'stop', 'restart', 'timer'],
      stopping: ['start', 'stop', 'restart', 'spawn-failed', 'exited', 'timer'],
      killing: ['start', 'stop', 'restart', 'spawn-failed', 'exited', 'timer'],
      failed: ['start', 'stop', 'restart'],
      escalated: ['start', 'stop', 'restart'],
    });
  });

  for (const state of SUPERVISOR_STATES) {
    describe(`from ${state}`, () => {
      it.each(SUPERVISOR_EVENT_TYPES)('%s: never throws, lands in a known state, sets only sane timers', (type) => {
        for (const [label, ctx] of CONTEXTS) {
          for (const event of EVENTS[type]) {
            const where = `${state} + ${JSON.stringify(event)} with ${label}`;
            let r: ReturnType<typeof apply> | undefined;
            expect(() => (r = apply(state, ctx, event)), where).not.toThrow();
            if (!r) continue;
            expect(SUPERVISOR_STATES, where).toContain(r.to);
            expect(r.reason.length, where).toBeGreaterThan(0);
            const ts = timers(r.effects);
            expect(ts.length, `${where}: one timer per state`).toBeLessThanOrEqual(1);
            for (const t of ts) {
              expect(Number.isFinite(t.ms), where).toBe(true);
              expect(t.ms, where).toBeGreaterThanOrEqual(0);
            }
            for (const e of r.effects) if (e.kind === 'spawn') expect(r.to, where).toBe('starting');
            if (!r.handled) {
              expect(r.to, where).toBe(state);
              expect(r.effects, where).toEqual([]);
            }
          }
        }
      });
    });
  }

  it('maps every detailed state onto a public one, and every public state is used', () => {
    for (const s of SUPERVISOR_STATES) expect(SERVICE_STATES).toContain(PUBLIC_STATE[s]);
    expect(new Set(Object.values(PUBLIC_STATE))).toEqual(new Set(SERVICE_STATES));
    expect(PUBLIC_STATE.killing).toBe('stopping');
    for (const s of SUPERVISOR_STATES) if (s !== 'killing') expect(PUBLIC_STATE[s]).toBe(s);
  });
});

describe('supervisor table: properties over event sequences', () => {
  const anyEvent = fc.constantFrom(...SUPERVISOR_EVENT_TYPES.flatMap((t) => EVENTS[t]));
  const anyCtx = fc.constantFrom(...CONTEXTS.map(([, c]) => c));
  const anyState = fc.constantFrom(...SUPERVISOR_STATES);

  it('a pending stop beats any automatic restart: no spawn after a stop until start, restart or adoption', () => {
    fc.assert(
      fc.property(anyState, anyCtx, fc.array(anyEvent, { maxLength: 40 }), fc.integer({ min: 0, max: 20_000 }), (start, ctx0, events, tick) => {
        let state = start;
        let ctx = ctx0;
        let now = NOW;
        let stopped = false;
        for (const e of events) {
          const r = apply(state, ctx, e, now);
          if (e.type === 'stop') stopped = true;
          if (e.type === 'start' || e.type === 'restart' || e.type === 'adopted') stopped = false;
          if (stopped) expect(r.effects.filter((f) => f.kind === 'spawn'), `${state} + ${e.type}`).toEqual([]);
          state = r.to;
          ctx = r.ctx;
          now += tick;
        }
      }),
    );
  });

  it('desired follows the last start, restart or stop (from the initial state)', () => {
    fc.assert(
      fc.property(anyCtx, fc.array(anyEvent, { maxLength: 40 }), fc.integer({ min: 0, max: 20_000 }), (ctx0, events, tick) => {
        let state: SupervisorState = 'stopped';
        let ctx: SupervisorCtx = { ...ctx0, desired: 'down', afterStop: 'stay', failure: null, pid: null };
        let now = NOW;
        for (const e of events) {
          const r = apply(state, ctx, e, now);
          if (e.type === 'stop') expect(r.ctx.desired, `${state} + stop`).toBe('down');
          if (e.type === 'start' || e.type === 'restart') expect(r.ctx.desired, `${state} + ${e.type}`).toBe('up');
          if (r.to === 'starting' || r.to === 'running' || r.to === 'backing-off') expect(r.ctx.desired, `${state} + ${e.type} → ${r.to}`).toBe('up');
          state = r.to;
          ctx = r.ctx;
          now += tick;
        }
      }),
    );
  });

  it('every exit the table handles kills what is left of the process group', () => {
    fc.assert(
      fc.property(anyState, anyCtx, fc.array(anyEvent, { maxLength: 40 }), (start, ctx0, events) => {
        let state = start;
        let ctx = ctx0;
        for (const e of events) {
          const r = apply(state, ctx, e);
          if (e.type === 'exited' && r.handled) expect(r.effects[0]).toEqual({ kind: 'kill-leftovers' });
          if (e.type === 'exited' && r.handled) expect(r.ctx.pid).toBeNull();
          state = r.to;
          ctx = r.ctx;
        }
      }),
    );
  });
});

describe('supervisor table: rows', () => {
  it('stopped + start → starting, spawning the program', () => {
    const r = apply('stopped', supervisorCtx(), { type: 'start' });
    expect(r).toMatchObject({ handled: true, to: 'starting', effects: [{ kind: 'spawn' }], reason: REASONS.startRequested });
    expect(r.ctx.desired).toBe('up');
    expect(r.ctx.tracker.lastStartAt).toBe(NOW);
  });

  it('stopped + start carries the reason it was given', () => {
    expect(apply('stopped', supervisorCtx(), { type: 'start', reason: REASONS.autostart }).reason).toBe(REASONS.autostart);
  });

  it('starting + spawned → running when there are no readiness checks', () => {
    const r = apply('starting', supervisorCtx(), { type: 'spawned', pid: PID });
    expect(r).toMatchObject({ to: 'running', effects: [], reason: REASONS.readyNoChecks });
    expect(r.ctx.pid).toBe(PID);
  });

  it('starting + spawned waits for readiness with the start timeout when checks exist; ready → running', () => {
    const ctx = supervisorCtx({ notify: true, startTimeout: '7s' }, { needsReadiness: true });
    const spawned = apply('starting', ctx, { type: 'spawned', pid: PID });
    expect(spawned).toMatchObject({ to: 'starting', effects: [{ kind: 'timer', ms: 7000 }] });
    expect(apply('starting', spawned.ctx, { type: 'ready' })).toMatchObject({ to: 'running', reason: REASONS.ready });
  });

  it('starting + timer (not ready in time) → stopping, then the exit is a failure', () => {
    const ctx = supervisorCtx({ restart: { policy: 'on-failure' } }, { needsReadiness: true, pid: PID, tracker: { restartTimes: [], consecutive: 0, lastStartAt: NOW - 60_000, totalRestarts: 0 } });
    const { results } = run('starting', ctx, [{ type: 'timer' }, { type: 'exited', code: 0, signal: null, rand: 0.5 }]);
    expect(results[0]).toMatchObject({ to: 'stopping', reason: REASONS.startTimeout });
    expect(results[1]?.to).toBe('starting');
    expect(results[1]?.reason).toContain(REASONS.startTimeout);
  });

  it('starting + spawn-failed → failed, with the error in the reason', () => {
    const r = apply('starting', supervisorCtx(), { type: 'spawn-failed', error: 'ENOENT: /opt/app/run' });
    expect(r.to).toBe('failed');
    expect(r.reason).toContain(REASONS.spawnFailed);
    expect(r.reason).toContain('ENOENT: /opt/app/run');
    expect(r.effects).toEqual([]);
  });

  describe('running + exited applies the restart policy', () => {
    const stableRun = { restartTimes: [], consecutive: 0, lastStartAt: NOW - 60_000, totalRestarts: 0 };

    it('restarts at once (starting + spawn) after a stable run', () => {
      const r = apply('running', supervisorCtx({}, { pid: PID, tracker: stableRun }), { type: 'exited', code: 1, signal: null, rand: 0.5 });
      expect(r).toMatchObject({ to: 'starting', effects: [{ kind: 'kill-leftovers' }, { kind: 'spawn' }] });
      expect(r.reason).toBe(`exit code 1: ${REASONS.crashed}`);
      expect(r.ctx).toMatchObject({ pid: null, lastExit: 'exit code 1' });
      expect(r.ctx.tracker).toMatchObject({ lastStartAt: NOW, totalRestarts: 1, restartTimes: [NOW] });
    });

    it('backs off (backing-off + timer of the decided delay) after failures in a row', () => {
      const tracker = { restartTimes: [NOW - 1000], consecutive: 2, lastStartAt: NOW - 500, totalRestarts: 1 };
      const ctx = supervisorCtx({}, { pid: PID, tracker });
      const event = { type: 'exited', code: null, signal: 'SIGSEGV', rand: 0.3 } as const;
      const expected = decide(ctx.policy, tracker, { at: NOW, clean: false, rand: 0.3 }, { canEscalate: false }).decision;
      expect(expected.action).toBe('restart');
      const delay = expected.action === 'restart' ? expected.delayMs : -1;
      expect(delay).toBeGreaterThan(0);

      const r = apply('running', ctx, event);
      expect(r).toMatchObject({ to: 'backing-off', effects: [{ kind: 'kill-leftovers' }, { kind: 'timer', ms: delay }] });
      expect(r.reason).toBe(`killed by SIGSEGV: ${REASONS.crashed} in ${delay}ms`);
      expect(apply('backing-off', r.ctx, { type: 'timer' }, NOW + delay)).toMatchObject({ to: 'starting', effects: [{ kind: 'spawn' }], reason: REASONS.backoffElapsed });
    });

    it('goes to failed when the budget is spent and it may not escalate', () => {
      const r = apply('running', supervisorCtx({ restart: { exhausted: 'give-up' } }, { pid: PID, tracker: spentBudget }), { type: 'exited', code: 1, signal: null, rand: 0.5 });
      expect(r).toMatchObject({ to: 'failed', effects: [{ kind: 'kill-leftovers' }] });
      expect(r.reason).toContain(REASONS.budgetGiveUp);
    });

    it('goes to escalated when the budget is spent and another node can take over', () => {
      const r = apply('running', supervisorCtx({}, { pid: PID, canEscalate: true, tracker: spentBudget }), { type: 'exited', code: 1, signal: null, rand: 0.5 });
      expect(r).toMatchObject({ to: 'escalated', effects: [{ kind: 'kill-leftovers' }], reason: `exit code 1: ${REASONS.budgetEscalate}` });
    });

    it('goes to stopped (desired down) on a clean exit under on-failure', () => {
      const r = apply('running', supervisorCtx({ restart: { policy: 'on-failure' } }, { pid: PID, desired: 'up', tracker: stableRun }), { type: 'exited', code: 0, signal: null, rand: 0.5 });
      expect(r).toMatchObject({ to: 'stopped', effects: [{ kind: 'kill-leftovers' }], reason: `exit code 0: ${REASONS.exitedCleanly}` });
      expect(r.ctx.desired).toBe('down');
    });
  });

  it('running + stop → stopping: stop signal with SIGCONT, then a grace timer', () => {
    const r = apply('running', supervisorCtx({ stop: { signal: 'SIGINT', grace: '3s' } }, { pid: PID, desired: 'up' }), { type: 'stop' });
    expect(r).toMatchObject({
      to: 'stopping',
      effects: [
        { kind: 'signal', signal: 'SIGINT', cont: true },
        { kind: 'timer', ms: 3000 },
      ],
      reason: REASONS.stopRequested,
    });
    expect(r.ctx).toMatchObject({ desired: 'down', afterStop: 'stay' });
  });

  it('stopping + timer → killing: SIGKILL to the group without SIGCONT, then the kill wait', () => {
    const r = apply('stopping', supervisorCtx({}, { pid: PID }), { type: 'timer' });
    expect(r).toMatchObject({
      to: 'killing',
      effects: [
        { kind: 'signal', signal: 'SIGKILL', cont: false },
        { kind: 'timer', ms: KILL_WAIT_MS },
      ],
      reason: REASONS.graceExpired,
    });
  });

  it('killing + timer → failed: the program would not die', () => {
    expect(apply('killing', supervisorCtx({}, { pid: PID }), { type: 'timer' })).toMatchObject({ to: 'failed', effects: [], reason: REASONS.unkillable });
  });

  describe.each(['stopping', 'killing'] as const)('%s + exited', (state) => {
    it('→ stopped when the stop was asked for, killing the leftovers', () => {
      const r = apply(state, supervisorCtx({}, { pid: PID, afterStop: 'stay' }), { type: 'exited', code: null, signal: 'SIGTERM', rand: 0.5 });
      expect(r).toMatchObject({ to: 'stopped', effects: [{ kind: 'kill-leftovers' }], reason: REASONS.stopped });
      expect(r.ctx).toMatchObject({ pid: null, desired: 'down', lastExit: 'killed by SIGTERM' });
    });

    it('→ starting when a restart was asked for, killing the leftovers first', () => {
      const r = apply(state, supervisorCtx({}, { pid: PID, afterStop: 'start', desired: 'up' }), { type: 'exited', code: 0, signal: null, rand: 0.5 });
      expect(r).toMatchObject({ to: 'starting', effects: [{ kind: 'kill-leftovers' }, { kind: 'spawn' }], reason: REASONS.restartRequested });
      expect(r.ctx).toMatchObject({ pid: null, desired: 'up', afterStop: 'stay' });
    });
  });

  it('a stop during a restart wins: running + restart, + stop, + exited → stopped', () => {
    const { state, ctx, results } = run('running', supervisorCtx({}, { pid: PID, desired: 'up' }), [
      { type: 'restart' },
      { type: 'stop' },
      { type: 'exited', code: null, signal: 'SIGTERM', rand: 0.5 },
    ]);
    expect(results.map((r) => r.to)).toEqual(['stopping', 'stopping', 'stopped']);
    expect(results[1]?.effects).toEqual([]); // no second signal, no second timer
    expect(state).toBe('stopped');
    expect(ctx.desired).toBe('down');
    expect(results.flatMap((r) => r.effects).filter((e) => e.kind === 'spawn')).toEqual([]);
  });

  it('a start during a stop wins the other way: running + stop, + start, + exited → starting', () => {
    const { state, last } = run('running', supervisorCtx({}, { pid: PID, desired: 'up' }), [
      { type: 'stop' },
      { type: 'start' },
      { type: 'exited', code: null, signal: 'SIGTERM', rand: 0.5 },
    ]);
    expect(state).toBe('starting');
    expect(last?.effects).toEqual([{ kind: 'kill-leftovers' }, { kind: 'spawn' }]);
  });

  it('backing-off + stop → stopped, with nothing spawned', () => {
    const r = apply('backing-off', supervisorCtx({}, { desired: 'up' }), { type: 'stop' });
    expect(r).toMatchObject({ to: 'stopped', effects: [], reason: REASONS.stopRequested });
    expect(r.ctx.desired).toBe('down');
  });

  it.each(['failed', 'escalated'] as const)('%s + start → starting with the budget and backoff forgotten', (state) => {
    const r = apply(state, supervisorCtx({}, { tracker: spentBudget }), { type: 'start' });
    expect(r).toMatchObject({ to: 'starting', effects: [{ kind: 'spawn' }] });
    expect(r.ctx.tracker).toMatchObject({ restartTimes: [], consecutive: 0, lastStartAt: NOW, totalRestarts: 5 });
    expect(r.ctx.desired).toBe('up');
  });

  describe('running + hung', () => {
    it('→ stopping through the stop escalation', () => {
      const r = apply('running', supervisorCtx({}, { pid: PID, desired: 'up' }), { type: 'hung', detail: 'no WATCHDOG=1 for 5s' });
      expect(r).toMatchObject({ to: 'stopping', effects: [{ kind: 'signal', signal: 'SIGTERM', cont: true }, { kind: 'timer', ms: 10_000 }] });
      expect(r.reason).toContain(REASONS.hung);
      expect(r.ctx).toMatchObject({ afterStop: 'policy', desired: 'up' });
    });

    it('then an exit with code 0 is still a failure: on-failure restarts', () => {
      const ctx = supervisorCtx({ restart: { policy: 'on-failure' } }, { pid: PID, desired: 'up', tracker: { restartTimes: [], consecutive: 0, lastStartAt: NOW - 60_000, totalRestarts: 0 } });
      const { state, last } = run('running', ctx, [
        { type: 'hung', detail: 'probe failed' },
        { type: 'exited', code: 0, signal: null, rand: 0.5 },
      ]);
      expect(state).toBe('starting');
      expect(last?.effects).toEqual([{ kind: 'kill-leftovers' }, { kind: 'spawn' }]);
      expect(last?.reason).toBe(`hung (probe failed): ${REASONS.crashed}`);
    });

    it('then an exit with code 0 under policy never gives up instead of counting as done', () => {
      const ctx = supervisorCtx({ restart: { policy: 'never' } }, { pid: PID, desired: 'up' });
      const { state, last } = run('running', ctx, [
        { type: 'hung', detail: 'probe failed' },
        { type: 'exited', code: 0, signal: null, rand: 0.5 },
      ]);
      expect(state).toBe('failed');
      expect(last?.reason).toBe(`hung (probe failed): ${REASONS.policyNever}`);
    });

    it('a stop after the hang wins over the policy', () => {
      const { state } = run('running', supervisorCtx({}, { pid: PID, desired: 'up' }), [
        { type: 'hung', detail: 'probe failed' },
        { type: 'stop' },
        { type: 'exited', code: 0, signal: null, rand: 0.5 },
      ]);
      expect(state).toBe('stopped');
    });
  });

  it('stopped + adopted → running with the adopted pid and start time', () => {
    const r = apply('stopped', supervisorCtx(), { type: 'adopted', pid: PID, startedAt: NOW - 60_000 });
    expect(r).toMatchObject({ to: 'running', effects: [], reason: REASONS.adopted });
    expect(r.ctx).toMatchObject({ pid: PID, desired: 'up' });
    expect(r.ctx.tracker.lastStartAt).toBe(NOW - 60_000);
  });

  it('a crash loop walks starting → backing-off with growing delays until the budget is spent', () => {
    const ctx = supervisorCtx({ restart: { budget: { restarts: 4, window: '1h' }, exhausted: 'give-up', minInterval: '0ms', backoff: { jitter: 0 } } });
    const sv = { state: 'stopped' as SupervisorState, ctx, now: NOW };
    const seen: string[] = [];
    /** Applies the event; returns the timer it set (0 when none). */
    const go = (e: SupervisorEvent): number => {
      const r = apply(sv.state, sv.ctx, e, sv.now);
      sv.state = r.to;
      sv.ctx = r.ctx;
      const t = timers(r.effects)[0];
      seen.push(t && r.to === 'backing-off' ? `${r.to} ${t.ms}` : r.to);
      return t?.ms ?? 0;
    };
    go({ type: 'start' });
    for (let i = 0; i < 5; i += 1) {
      go({ type: 'spawned', pid: PID + i });
      sv.now += 10;
      sv.now += go({ type: 'exited', code: 1, signal: null, rand: 0.5 });
      if (sv.state === 'backing-off') go({ type: 'timer' });
    }
    expect(seen).toEqual([
      'starting',
      'running', 'starting', // the first failure restarts at once
      'running', 'backing-off 100', 'starting',
      'running', 'backing-off 200', 'starting',
      'running', 'backing-off 400', 'starting',
      'running', 'failed',
    ]);
  });
});
