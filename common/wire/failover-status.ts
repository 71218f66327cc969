import { z } from 'zod';

/** One failover group as one of its voters sees it: for `armory groups`, the status data and the GUI. */
export const groupStatusSchema = z.strictObject({
  group: z.string(),
  node: z.string().describe('the node reporting'),
  state: z.enum(['standby', 'candidate', 'taking-over', 'active', 'stepping-down']),
  epoch: z.number().int().nonnegative().describe('highest epoch in force that this node knows'),
  activeNode: z.string().nullable().describe('the node this one sees active (itself included), null: none'),
  activeEpoch: z.number().int().nonnegative().nullable(),
  ready: z.boolean().describe('this node can carry the group (not drained, services not failed here)'),
  drained: z.boolean(),
  services: z.array(z.string()),
  peers: z.array(z.strictObject({ node: z.string(), lastHeardMs: z.number().nullable(), fresh: z.boolean() })),
  heartbeatMs: z.number(),
  failAfterMs: z.number(),
  leaseMs: z.number(),
  lastStartMs: z.number().nullable().describe('how long the services took to run on this node\'s last takeover'),
  lagging: z.array(z.string()).optional().describe('members whose copy of the mirrored data lags, by the newest word of an active node; they take over only when no member with a full copy can'),
  reason: z.string(),
});
export type GroupStatus = z.output<typeof groupStatusSchema>;

/** One group as the manager shows it, merged from what its voters report. */
export const groupSummarySchema = z.strictObject({
  group: z.string(),
  services: z.array(z.string()),
  activeNode: z.string().nullable(),
  epoch: z.number().int().nonnegative(),
  members: z.array(
    z.strictObject({
      node: z.string(),
      state: z.string().nullable(),
      ready: z.boolean().nullable(),
      reachable: z.boolean(),
      lagging: z.boolean().optional().describe('its copy of the mirrored data lags, by the active node\'s word'),
    }),
  ),
  heartbeats: z.array(z.strictObject({ from: z.string(), to: z.string(), lastHeardMs: z.number().nullable(), fresh: z.boolean() })),
  budget: z.strictObject({ detectMs: z.number(), startMs: z.number(), arpMs: z.number(), totalMs: z.number() }),
});
export type GroupSummary = z.output<typeof groupSummarySchema>;
