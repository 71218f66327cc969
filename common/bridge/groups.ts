import { z } from 'zod';
import { noParams } from './common.js';
import { domain } from './domain.js';

/** A failover group as configured, with what each member's agent reports of the group's services. */
export const groupViewSchema = z.strictObject({
  name: z.string(),
  services: z.array(z.string()),
  failback: z.string(),
  heartbeatMs: z.number(),
  failAfterMs: z.number(),
  witness: z.string().nullable(),
  members: z.array(
    z.strictObject({
      node: z.string(),
      priority: z.number().int(),
      reachable: z.boolean(),
      /** Each of the group's services on this member: its state, or null when the node does not run it. */
      services: z.record(z.string(), z.string().nullable()),
    }),
  ),
});
export type GroupView = z.output<typeof groupViewSchema>;

export const groupsDomain = domain({ list: { params: noParams, result: z.array(groupViewSchema) } }, {});
