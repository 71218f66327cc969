import { z } from 'zod';
import { groupStatusSchema } from '../wire/failover-status.js';
import { serviceStatusSchema } from '../wire/service-status.js';
import { done, nodeName, noParams, serviceRef } from './common.js';
import { domain } from './domain.js';

/** One node's services as its agent reports them (`reachable: false` when it does not answer). */
export const nodeStatusSchema = z.strictObject({
  node: nodeName,
  address: z.string(),
  reachable: z.boolean(),
  error: z.string().nullable(),
  services: z.array(serviceStatusSchema),
  /** The failover groups the node votes in, as it sees them (its role, the active node, the epoch). */
  failover: z.array(groupStatusSchema).optional(),
});
export type NodeStatusView = z.output<typeof nodeStatusSchema>;

export const statusSnapshotSchema = z.strictObject({
  at: z.string().describe('ISO time the snapshot was taken'),
  nodes: z.array(nodeStatusSchema),
});
export type StatusSnapshot = z.output<typeof statusSnapshotSchema>;

/** Fraction of the time a service was running and ready, from the event journal; null when nothing is known. */
export const availabilitySchema = z.strictObject({
  node: nodeName,
  service: z.string(),
  day: z.number().min(0).max(1).nullable(),
  week: z.number().min(0).max(1).nullable(),
});
export type AvailabilityView = z.output<typeof availabilitySchema>;

/** One recovery of a service: when it went down, what happened, and how long until it ran again. */
export const recoverySchema = z.strictObject({
  time: z.string(),
  to: z.string().describe('the state it left running for'),
  reason: z.string(),
  recoveryMs: z.number().nullable().describe('time until it was running again; null while it is not'),
});
export type RecoveryView = z.output<typeof recoverySchema>;

export const servicesDomain = domain(
  {
    status: { params: noParams, result: statusSnapshotSchema },
    start: { params: serviceRef, result: done },
    stop: { params: serviceRef, result: done },
    restart: { params: serviceRef, result: done },
    logs: { params: serviceRef.extend({ lines: z.number().int().min(1).max(5000).default(200) }), result: z.strictObject({ lines: z.array(z.string()) }) },
    availability: { params: noParams, result: z.array(availabilitySchema) },
    recoveries: { params: serviceRef.extend({ limit: z.number().int().min(1).max(10_000).default(500) }), result: z.array(recoverySchema) },
  },
  {
    /** A fresh snapshot whenever any service or node changed. */
    status: statusSnapshotSchema,
  },
);
