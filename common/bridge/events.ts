import { z } from 'zod';
import { agentEventSchema, EVENT_KINDS } from '../wire/service-status.js';
import { nodeName, serviceName } from './common.js';
import { domain } from './domain.js';

export const EVENT_VIEW_KINDS = [...EVENT_KINDS, 'manager'] as const;

/** One entry of the manager's event journal (every agent's events, tagged with their node). */
export const eventViewSchema = agentEventSchema.extend({
  node: z.string(),
  agentSeq: z.number().int().nonnegative(),
  kind: z.enum(EVENT_VIEW_KINDS),
});
export type EventView = z.output<typeof eventViewSchema>;

export const eventQuerySchema = z.strictObject({
  node: nodeName.optional(),
  service: serviceName.optional(),
  kinds: z.array(z.enum(EVENT_VIEW_KINDS)).max(EVENT_VIEW_KINDS.length).optional(),
  /** Only events after this journal sequence number. */
  since: z.number().int().nonnegative().optional(),
  /** The newest `limit` matching events, oldest first. */
  limit: z.number().int().min(1).max(200_000).default(1000),
});
export type EventQuery = z.input<typeof eventQuerySchema>;

export const NOTIFICATION_KINDS = ['failure', 'recovery', 'escalation', 'give-up', 'unreachable', 'info'] as const;

/** What the user is told about: a failure and what Armory did about it, or a recovery. */
export const notificationSchema = z.strictObject({
  id: z.string(),
  time: z.string(),
  kind: z.enum(NOTIFICATION_KINDS),
  severity: z.enum(['info', 'warning', 'error']),
  title: z.string(),
  body: z.string(),
  node: z.string().optional(),
  service: z.string().optional(),
});
export type NotificationView = z.output<typeof notificationSchema>;

export const eventsDomain = domain(
  {
    query: { params: eventQuerySchema, result: z.strictObject({ events: z.array(eventViewSchema), last: z.number().int().nonnegative() }) },
  },
  {
    /** New journal entries, in order, as they are gathered from the agents. */
    appended: z.strictObject({ events: z.array(eventViewSchema) }),
    notification: notificationSchema,
  },
);
