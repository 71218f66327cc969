import type { StopSignal } from '../../common/config/names.js';
import type { RestartConfig } from '../../common/config/service.js';
import type { Transition, TransitionTable } from '../../common/fsm/table.js';
import type { ServiceState } from '../../common/wire/service-status.js';
import { REASONS } from './reasons.js';
import { decide, noteStart, resetTracker, type TrackerState } from './restart-tracker.js';

/** Detailed supervisor states; `killing` is the second step of the stop escalation. */
export const SUPERVISOR_STATES = ['stopped', 'starting', 'running', 'backing-off', 'stopping', 'killing', 'failed', 'escalated'] as const;
export type SupervisorState = (typeof SUPERVISOR_STATES)[number];

/** Detailed states onto the few that the GUI, the CLI and failover see. */
export const PUBLIC_STATE: Readonly<Record<SupervisorState, ServiceState>> = {
  stopped: 'stopped',
  starting: 'starting',
  running: 'running',
  'backing-off': 'backing-off',
  stopping: 'stopping',
  killing: 'stopping',
  failed: 'failed',
  escalated: 'escalated',
};

export type SupervisorEvent =
  | { type: 'start'; reason?: string }
  | { type: 'stop'; reason?: string }
  | { type: 'restart'; reason?: string }
  | { type: 'spawned'; pid: number }
  | { type: 'spawn-failed'; error: string }
  | { type: 'ready' }
  | { type: 'exited'; code: number | null; signal: string | null; rand: number }
  | { type: 'timer' }
  | { type: 'hung'; detail: string }
  | { type: 'adopted'; pid: number; startedAt: number }
  | { type: 'extend'; ms: number };

export const SUPERVISOR_EVENT_TYPES = ['start', 'stop', 'restart', 'spawned', 'spawn-failed', 'ready', 'exited', 'timer', 'hung', 'adopted', 'extend'] as const;

export type SupervisorEffect =
  | { kind: 'spawn' }
  | { kind: 'signal'; signal: StopSignal; cont: boolean }
  | { kind: 'kill-leftovers' }
  | { kind: 'timer'; ms: number };

export interface SupervisorCtx {
  readonly policy: RestartConfig;
  readonly stopSignal: StopSignal;
  readonly graceMs: number;
  readonly killWaitMs: number;
  readonly startTimeoutMs: number;
  readonly needsReadiness: boolean;
  readonly canEscalate: boolean;
  readonly desired: 'up' | 'down';
  /** What happens when the program has exited during a stop. */
  readonly afterStop: 'stay' | 'start' | 'policy';
  readonly tracker: TrackerState;
  readonly pid: number | null;
  readonly lastExit: string | null;
  /** Why the current stop began, when it was not asked for (hang, start timeout). */
  readonly failure: string | null;
}

type T = Transition<SupervisorState, SupervisorCtx, SupervisorEffect>;

export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `killed by ${signal}`;
  if (code === null) return 'ended (exit status unknown: re-adopted process)';
  return `exit code ${code}`;
}

const spawnNow = (ctx: SupervisorCtx, reason: string, now: number): T => ({
  to: 'starting',
  ctx: { ...ctx, desired: 'up', afterStop: 'stay', failure: null, tracker: noteStart(ctx.tracker, now) },
  effects: [{ kind: 'spawn' }],
  reason,
});

const startFresh = (ctx: SupervisorCtx, reason: string, now: number): T => spawnNow({ ...ctx, tracker: resetTracker(ctx.tracker) }, reason, now);

const beginStop = (ctx: SupervisorCtx, afterStop: SupervisorCtx['afterStop'], reason: string, failure: string | null = null): T => ({
  to: 'stopping',
  ctx: { ...ctx, afterStop, failure, desired: afterStop === 'stay' ? 'down' : ctx.desired },
  effects: [{ kind: 'signal', signal: ctx.stopSignal, cont: true }, { kind: 'timer', ms: ctx.graceMs }],
  reason,
});

/** Applies the restart policy to a run that ended without being asked to. */
const applyPolicy = (ctx: SupervisorCtx, exit: string, clean: boolean, rand: number, now: number, cause: string | null): T => {
  const { decision, state: tracker } = decide(ctx.policy, ctx.tracker, { at: now, clean, rand }, { canEscalate: ctx.canEscalate });
  const next = { ...ctx, tracker, pid: null, lastExit: exit, failure: null, afterStop: 'stay' as const };
  const why = `${cause ?? exit}: ${decision.reason}`;
  const leftovers = { kind: 'kill-leftovers' } as const;
  switch (decision.action) {
    case 'restart':
      if (decision.delayMs === 0) {
        return { to: 'starting', ctx: { ...next, tracker: noteStart(tracker, now) }, effects: [leftovers, { kind: 'spawn' }], reason: why };
      }
      return { to: 'backing-off', ctx: next, effects: [leftovers, { kind: 'timer', ms: decision.delayMs }], reason: `${why} in ${decision.delayMs}ms` };
    case 'escalate':
      return { to: 'escalated', ctx: next, effects: [leftovers], reason: why };
    case 'give-up':
      return { to: 'failed', ctx: next, effects: [leftovers], reason: why };
    case 'done':
      return { to: 'stopped', ctx: { ...next, desired: 'down' }, effects: [leftovers], reason: why };
  }
};

const onUnexpectedExit = (ctx: SupervisorCtx, e: { code: number | null; signal: string | null; rand: number }, now: number): T =>
  applyPolicy(ctx, describeExit(e.code, e.signal), e.code === 0 && e.signal === null, e.rand, now, null);

const onExitWhileStopping = (ctx: SupervisorCtx, e: { code: number | null; signal: string | null; rand: number }, now: number): T => {
  const exit = describeExit(e.code, e.signal);
  const leftovers = { kind: 'kill-leftovers' } as const;
  if (ctx.afterStop === 'policy') return applyPolicy(ctx, exit, false, e.rand, now, ctx.failure);
  if (ctx.afterStop === 'start') {
    const t = spawnNow({ ...ctx, pid: null, lastExit: exit }, REASONS.restartRequested, now);
    return { ...t, effects: [leftovers, ...(t.effects ?? [])] };
  }
  return { to: 'stopped', ctx: { ...ctx, pid: null, lastExit: exit, desired: 'down' }, effects: [leftovers], reason: REASONS.stopped };
};

/** A stop arrived while a spawn was still being set up, and the spawn failed: there is nothing to stop. */
const onSpawnFailedWhileStopping = (ctx: SupervisorCtx, error: string, now: number): T =>
  ctx.afterStop === 'start'
    ? { to: 'failed', ctx: { ...ctx, pid: null }, reason: `${REASONS.spawnFailed}: ${error}` }
    : ctx.afterStop === 'policy'
      ? applyPolicy(ctx, `${REASONS.spawnFailed}: ${error}`, false, 0.5, now, null)
      : { to: 'stopped', ctx: { ...ctx, pid: null, desired: 'down' }, reason: REASONS.stopped };

/** The supervisor's transition table: every state, the events it accepts, where they lead. */
export const SUPERVISOR_TABLE: TransitionTable<SupervisorState, SupervisorEvent, SupervisorCtx, SupervisorEffect> = {
  stopped: {
    start: (ctx, e, now) => startFresh(ctx, e.reason ?? REASONS.startRequested, now),
    restart: (ctx, e, now) => startFresh(ctx, e.reason ?? REASONS.startRequested, now),
    stop: (ctx) => ({ to: 'stopped', ctx: { ...ctx, desired: 'down' }, reason: 'already stopped' }),
    adopted: (ctx, e) => ({ to: 'running', ctx: { ...ctx, pid: e.pid, desired: 'up', tracker: { ...ctx.tracker, lastStartAt: e.startedAt } }, reason: REASONS.adopted }),
  },
  starting: {
    spawned: (ctx, e) =>
      ctx.needsReadiness
        ? { to: 'starting', ctx: { ...ctx, pid: e.pid }, effects: [{ kind: 'timer', ms: ctx.startTimeoutMs }], reason: REASONS.spawned }
        : { to: 'running', ctx: { ...ctx, pid: e.pid }, reason: REASONS.readyNoChecks },
    ready: (ctx) => ({ to: 'running', ctx, reason: REASONS.ready }),
    'spawn-failed': (ctx, e) => ({ to: 'failed', ctx: { ...ctx, pid: null, lastExit: null }, reason: `${REASONS.spawnFailed}: ${e.error}` }),
    exited: onUnexpectedExit,
    timer: (ctx) => beginStop(ctx, 'policy', REASONS.startTimeout, REASONS.startTimeout),
    hung: (ctx, e) => beginStop(ctx, 'policy', `${REASONS.hung} (${e.detail})`, `hung (${e.detail})`),
    stop: (ctx, e) => beginStop(ctx, 'stay', e.reason ?? REASONS.stopRequested),
    restart: (ctx, e) => beginStop(ctx, 'start', e.reason ?? REASONS.restartRequested),
    start: (ctx) => ({ to: 'starting', ctx: { ...ctx, desired: 'up' }, reason: 'already starting' }),
    extend: (ctx, e) => ({ to: 'starting', ctx, effects: [{ kind: 'timer', ms: e.ms }], reason: `start timeout extended by ${e.ms}ms (EXTEND_TIMEOUT_USEC)` }),
  },
  running: {
    exited: onUnexpectedExit,
    hung: (ctx, e) => beginStop(ctx, 'policy', `${REASONS.hung} (${e.detail})`, `hung (${e.detail})`),
    stop: (ctx, e) => beginStop(ctx, 'stay', e.reason ?? REASONS.stopRequested),
    restart: (ctx, e) => beginStop(ctx, 'start', e.reason ?? REASONS.restartRequested),
    start: (ctx) => ({ to: 'running', ctx: { ...ctx, desired: 'up' }, reason: 'already running' }),
  },
  'backing-off': {
    timer: (ctx, _e, now) => spawnNow(ctx, REASONS.backoffElapsed, now),
    start: (ctx, e, now) => startFresh(ctx, e.reason ?? REASONS.startRequested, now),
    restart: (ctx, e, now) => startFresh(ctx, e.reason ?? REASONS.restartRequested, now),
    stop: (ctx, e) => ({ to: 'stopped', ctx: { ...ctx, desired: 'down' }, reason: e.reason ?? REASONS.stopRequested }),
  },
  stopping: {
    exited: onExitWhileStopping,
    'spawn-failed': (ctx, e, now) => onSpawnFailedWhileStopping(ctx, e.error, now),
    timer: (ctx) => ({ to: 'killing', ctx, effects: [{ kind: 'signal', signal: 'SIGKILL', cont: false }, { kind: 'timer', ms: ctx.killWaitMs }], reason: REASONS.graceExpired }),
    stop: (ctx, e) => ({ to: 'stopping', ctx: { ...ctx, afterStop: 'stay', desired: 'down' }, reason: e.reason ?? REASONS.stopRequested }),
    start: (ctx, e) => ({ to: 'stopping', ctx: { ...ctx, afterStop: 'start', desired: 'up' }, reason: e.reason ?? REASONS.startRequested }),
    restart: (ctx, e) => ({ to: 'stopping', ctx: { ...ctx, afterStop: 'start', desired: 'up' }, reason: e.reason ?? REASONS.restartRequested }),
  },
  killing: {
    exited: onExitWhileStopping,
    'spawn-failed': (ctx, e, now) => onSpawnFailedWhileStopping(ctx, e.error, now),
    timer: (ctx) => ({ to: 'failed', ctx, reason: REASONS.unkillable }),
    stop: (ctx, e) => ({ to: 'killing', ctx: { ...ctx, afterStop: 'stay', desired: 'down' }, reason: e.reason ?? REASONS.stopRequested }),
    start: (ctx, e) => ({ to: 'killing', ctx: { ...ctx, afterStop: 'start', desired: 'up' }, reason: e.reason ?? REASONS.startRequested }),
    restart: (ctx, e) => ({ to: 'killing', ctx: { ...ctx, afterStop: 'start', desired: 'up' }, reason: e.reason ?? REASONS.restartRequested }),
  },
  failed: {
    start: (ctx, e, now) => startFresh(ctx, e.reason ?? REASONS.startRequested, now),
    restart: (ctx, e, now) => startFresh(ctx, e.reason ?? REASONS.startRequested, now),
    stop: (ctx, e) => ({ to: 'stopped', ctx: { ...ctx, desired: 'down' }, reason: e.reason ?? REASONS.stopRequested }),
  },
  escalated: {
    start: (ctx, e, now) => startFresh(ctx, e.reason ?? REASONS.startRequested, now),
    restart: (ctx, e, now) => startFresh(ctx, e.reason ?? REASONS.startRequested, now),
    stop: (ctx, e) => ({ to: 'stopped', ctx: { ...ctx, desired: 'down' }, reason: e.reason ?? REASONS.stopRequested }),
  },
};
