import { z } from 'zod';
import { EVENT_KINDS } from '../../../common/wire/service-status.js';

/** An event as the manager keeps it: an agent's event, tagged with its node and the agent's own sequence number. */
export const managerEventSchema = z.object({
  seq: z.number().int().nonnegative(),
  time: z.string(),
  node: z.string(),
  agentSeq: z.number().int().nonnegative(),
  kind: z.enum([...EVENT_KINDS, 'manager']),
  service: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  reason: z.string(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type ManagerEvent = z.output<typeof managerEventSchema>;
export type ManagerEventInput = Omit<ManagerEvent, 'seq'>;
