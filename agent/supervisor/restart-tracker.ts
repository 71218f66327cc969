import type { RestartConfig } from '../../common/config/service.js';
import { REASONS } from './reasons.js';

/** What the tracker remembers between runs; plain data, journaled with the agent's state. */
export interface TrackerState {
  /** Times of the restarts still inside the budget window. */
  restartTimes: number[];
  /** Failures in a row since the last stable run. */
  consecutive: number;
  lastStartAt: number | null;
  totalRestarts: number;
}

export const initialTracker = (): TrackerState => ({ restartTimes: [], consecutive: 0, lastStartAt: null, totalRestarts: 0 });

export interface RunOutcome {
  at: number;
  /** true when the program exited with code 0 on its own (not hung, not killed). */
  clean: boolean;
  /** A number in [0, 1) for the jitter, injected so that the tracker stays pure. */
  rand: number;
}

export type Decision =
  | { action: 'restart'; delayMs: number; reason: string }
  | { action: 'escalate'; reason: string }
  | { action: 'give-up'; reason: string }
  | { action: 'done'; reason: string };

export function noteStart(state: TrackerState, now: number): TrackerState {
  return { ...state, lastStartAt: now };
}

/** Forget the budget and the backoff, as after a manual start. */
export function resetTracker(state: TrackerState): TrackerState {
  return { ...state, restartTimes: [], consecutive: 0 };
}

/** The backoff before the n-th restart in a row: the first is immediate, then initial·factor^(n-2), capped. */
export function backoffDelay(policy: RestartConfig, consecutive: number, rand: number): number {
  if (consecutive <= 1) return 0;
  const { initial, factor, max, jitter } = policy.backoff;
  const base = Math.min(max, initial * factor ** (consecutive - 2));
  const jittered = base * (1 + jitter * (2 * rand - 1));
  return Math.max(0, Math.min(max, Math.round(jittered)));
}

/**
 * The pure restart policy: records how a run ended and answers what to do. Budget = N restarts in
 * a sliding window; exponential backoff with jitter; a minimum interval between starts; a stable
 * run resets the backoff.
 */
export function decide(
  policy: RestartConfig,
  state: TrackerState,
  outcome: RunOutcome,
  options: { canEscalate: boolean },
): { decision: Decision; state: TrackerState } {
  const ranFor = state.lastStartAt === null ? Number.POSITIVE_INFINITY : outcome.at - state.lastStartAt;
  const stable = ranFor >= policy.stableAfter;
  const consecutive = outcome.clean ? 0 : stable ? 1 : state.consecutive + 1;
  const base = { ...state, consecutive };

  if (policy.policy === 'never' || (policy.policy === 'on-failure' && outcome.clean)) {
    return outcome.clean
      ? { decision: { action: 'done', reason: REASONS.exitedCleanly }, state: base }
      : { decision: { action: 'give-up', reason: REASONS.policyNever }, state: base };
  }

  const windowStart = outcome.at - policy.budget.window;
  const restartTimes = state.restartTimes.filter((t) => t > windowStart);
  if (restartTimes.length >= policy.budget.restarts) {
    const next = { ...base, restartTimes };
    if (policy.exhausted === 'escalate' && options.canEscalate) return { decision: { action: 'escalate', reason: REASONS.budgetEscalate }, state: next };
    return {
      decision: { action: 'give-up', reason: policy.exhausted === 'escalate' ? REASONS.budgetNoNode : REASONS.budgetGiveUp },
      state: next,
    };
  }

  const backoff = backoffDelay(policy, outcome.clean ? 1 : consecutive, outcome.rand);
  const sinceStart = state.lastStartAt === null ? Number.POSITIVE_INFINITY : outcome.at - state.lastStartAt;
  const delayMs = Math.max(backoff, policy.minInterval - sinceStart, 0);
  return {
    decision: { action: 'restart', delayMs, reason: outcome.clean ? REASONS.exitedRestart : REASONS.crashed },
    state: { ...base, restartTimes: [...restartTimes, outcome.at], totalRestarts: state.totalRestarts + 1 },
  };
}
