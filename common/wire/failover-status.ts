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
  reason: z.string(),
});
export type GroupStatus = z.output<typeof groupStatusSchema>;
