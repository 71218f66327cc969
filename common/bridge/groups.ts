import { z } from 'zod';
import { done, nodeName, noParams, serviceName } from './common.js';
import { domain } from './domain.js';

/** A failover group as configured, with what each member's agent reports of the group's services. */
export const groupViewSchema = z.strictObject({
  name: z.string(),
  services: z.array(z.string()),
  failback: z.string(),
  heartbeatMs: z.number(),
  failAfterMs: z.number(),
  witness: z.string().nullable(),
  /** The node the voters see active, and the epoch in force (raised at every takeover). */
  activeNode: z.string().nullable(),
  epoch: z.number().int().nonnegative(),
  /** How long a failover takes at most: detection + the last measured start + gratuitous ARP. */
  budget: z.strictObject({ detectMs: z.number(), startMs: z.number(), arpMs: z.number(), totalMs: z.number() }),
  members: z.array(
    z.strictObject({
      node: z.string(),
      priority: z.number().int(),
      reachable: z.boolean(),
      /** Its failover state (active, standby, …) as it reports it; null when it does not answer. */
      role: z.string().nullable(),
      /** Its copy of the group's mirrored data lags behind the active node (it takes over only when no member with a full copy can). */
      copyLags: z.boolean(),
      /** Peers whose heartbeats it hears now, of those it should hear. */
      hears: z.strictObject({ fresh: z.number().int(), of: z.number().int() }),
      /** Each of the group's services on this member: its state, or null when the node does not run it. */
      services: z.record(z.string(), z.string().nullable()),
    }),
  ),
});
export type GroupView = z.output<typeof groupViewSchema>;

export const groupsDomain = domain(
  {
    list: { params: noParams, result: z.array(groupViewSchema) },
    /** Moves a service (and the rest of its group) to a member node; the group's other members hold off until it is active there. */
    move: { params: z.strictObject({ service: serviceName, node: nodeName }), result: done },
  },
  {},
);
