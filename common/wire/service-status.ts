import { z } from 'zod';

/** The few states the GUI, the CLI and failover see (detailed supervisor states map onto these). */
export const SERVICE_STATES = ['stopped', 'starting', 'running', 'backing-off', 'stopping', 'failed', 'escalated'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

export const serviceStatusSchema = z.strictObject({
  name: z.string(),
  state: z.enum(SERVICE_STATES),
  desired: z.enum(['up', 'down']),
  ready: z.boolean(),
  pid: z.number().int().nullable(),
  restarts: z.number().int().nonnegative(),
  reason: z.string(),
  since: z.string().describe('ISO time of the last state change'),
  uptimeMs: z.number().nullable(),
  lastExit: z.string().nullable().describe('how the previous run ended, e.g. "exit code 1" or "signal SIGKILL"'),
  nextRestartMs: z.number().nullable().describe('milliseconds until the next restart while backing off'),
  statusText: z.string().nullable().describe('the last STATUS= the program sent (notify protocol)'),
  health: z.string().nullable().describe('what liveness sees wrong right now (failing probe, stale heartbeat), else null'),
});
export type ServiceStatus = z.output<typeof serviceStatusSchema>;

export const EVENT_KINDS = ['transition', 'config', 'adoption', 'agent', 'store', 'liveness', 'error', 'failover', 'job', 'shim', 'checkpoint', 'mirror', 'drill'] as const;

/** One entry of the event journal: a failure, a recovery action or a change of state. */
export const agentEventSchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  time: z.string(),
  kind: z.enum(EVENT_KINDS),
  service: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  reason: z.string(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type AgentEvent = z.output<typeof agentEventSchema>;
export type AgentEventInput = Omit<AgentEvent, 'seq' | 'time'>;
