import type { z } from 'zod';
import { serviceSchema, type ServiceConfig } from '../../../../common/config/service.js';
import { contextFor } from '../../../../agent/supervisor/supervisor-context.js';
import type { SupervisorCtx } from '../../../../agent/supervisor/state-table.js';

/** A service specification parsed through the real schema, so that every default is filled in. */
export function serviceSpec(input: Partial<z.input<typeof serviceSchema>> = {}): ServiceConfig {
  return serviceSchema.parse({ command: '/bin/true', ...input });
}

/** A context for a service given as configuration input, with any field overridden. */
export function supervisorCtx(service: Partial<z.input<typeof serviceSchema>> = {}, overrides: Partial<SupervisorCtx> = {}): SupervisorCtx {
  return { ...contextFor(serviceSpec(service), overrides.canEscalate ?? false), ...overrides };
}

export { contextFor, KILL_WAIT_MS } from '../../../../agent/supervisor/supervisor-context.js';
