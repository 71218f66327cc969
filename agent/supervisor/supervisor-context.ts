import type { ServiceConfig } from '../../common/config/service.js';
import { LivenessMonitor } from '../liveness/liveness-monitor.js';
import { initialTracker } from './restart-tracker.js';
import type { SupervisorCtx } from './state-table.js';

/** How long the supervisor waits for a SIGKILLed program to be gone before calling it unkillable. */
export const KILL_WAIT_MS = 5000;

/** The supervisor's context for a service specification, carrying over what outlives a change of it. */
export function contextFor(spec: ServiceConfig, canEscalate: boolean, carry?: Partial<SupervisorCtx>): SupervisorCtx {
  return {
    policy: spec.restart,
    stopSignal: spec.stop.signal,
    graceMs: spec.stop.grace,
    killWaitMs: KILL_WAIT_MS,
    startTimeoutMs: spec.startTimeout,
    needsReadiness: LivenessMonitor.needsReadiness(spec),
    canEscalate,
    desired: carry?.desired ?? 'down',
    afterStop: carry?.afterStop ?? 'stay',
    tracker: carry?.tracker ?? initialTracker(),
    pid: carry?.pid ?? null,
    lastExit: carry?.lastExit ?? null,
    failure: carry?.failure ?? null,
  };
}
