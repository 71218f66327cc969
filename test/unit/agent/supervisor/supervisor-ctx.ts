import type { z } from 'zod';
import { serviceSchema, type ServiceConfig } from '../../../../common/config/service.js';
import { LivenessMonitor } from '../../../../agent/liveness/liveness-monitor.js';
import { initialTracker } from '../../../../agent/supervisor/restart-tracker.js';
import type { SupervisorCtx } from '../../../../agent/supervisor/state-table.js';

/** As KILL_WAIT_MS in agent/supervisor/service-runner.ts. */
export const KILL_WAIT_MS = 5000;

/** A service specification parsed through the real schema, so that every default is filled in. */
export function serviceSpec(input: Partial<z.input<typeof serviceSchema>> = {}): ServiceConfig {
  return serviceSchema.parse({ command: '/bin/true', ...input });
}

/**
 * The supervisor context, built the way `contextFor` in agent/supervisor/service-runner.ts builds it
 * (that function is not exported; keep this copy in step with it).
 */
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

/** A context for a service given as configuration input, with any field overridden. */
export function supervisorCtx(service: Partial<z.input<typeof serviceSchema>> = {}, overrides: Partial<SupervisorCtx> = {}): SupervisorCtx {
  return { ...contextFor(serviceSpec(service), overrides.canEscalate ?? false), ...overrides };
}
