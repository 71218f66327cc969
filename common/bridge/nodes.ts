import { z } from 'zod';
import { done, nodeName, noParams } from './common.js';
import { domain } from './domain.js';

/** A node as the Nodes screen lists it. */
export const nodeSummarySchema = z.strictObject({
  name: nodeName,
  address: z.string(),
  local: z.boolean().describe('the machine the manager runs on'),
  reachable: z.boolean(),
  error: z.string().nullable().describe('why the agent does not answer, when it does not'),
  services: z.number().int().nonnegative(),
  agentVersion: z.string().nullable(),
  certificateExpires: z.string(),
  enrolledAt: z.string(),
});
export type NodeSummary = z.output<typeof nodeSummarySchema>;

export const nodeDetailSchema = nodeSummarySchema.extend({
  profile: z.record(z.string(), z.unknown()).nullable().describe('the host profile taken at enrollment'),
  hostKey: z.string().nullable(),
  sshUser: z.string().nullable(),
  certificateFingerprint: z.string(),
  install: z.record(z.string(), z.unknown()),
});
export type NodeDetail = z.output<typeof nodeDetailSchema>;

/** How to log in to a host: a password, a private key file on this machine, or the ssh-agent. */
export const sshAuthSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('password'), password: z.string().min(1).max(4096) }),
  z.strictObject({ kind: z.literal('key-file'), keyFile: z.string().min(1).max(4096), passphrase: z.string().max(4096).optional() }),
  z.strictObject({ kind: z.literal('agent') }),
]);
export type SshAuthInput = z.output<typeof sshAuthSchema>;

const enrollmentId = z.string().min(1).max(64);

export const enrollParamsSchema = z.strictObject({
  node: nodeName,
  host: z.string().regex(/^[A-Za-z0-9.:_-]{1,253}$/, 'a host name or IP address'),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().regex(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/, 'a user name'),
  auth: sshAuthSchema,
  agentPort: z.number().int().min(1).max(65535).default(7443),
  /** Tests and hosts sharing one filesystem install under a folder of their own. */
  installRoot: z.string().max(4096).optional(),
});

/** Live progress of one enrollment or removal (the steps of main/core/enrollment). */
export const enrollmentEventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('step'),
    id: enrollmentId,
    step: z.string(),
    status: z.enum(['running', 'done', 'failed', 'rolled-back']),
    detail: z.string(),
    ms: z.number(),
    phase: z.enum(['forward', 'rollback']),
  }),
  /** The host key seen on first contact: answer with nodes.confirmHostKey. */
  z.strictObject({ type: z.literal('host-key'), id: enrollmentId, fingerprint: z.string() }),
  z.strictObject({
    type: z.literal('finished'),
    id: enrollmentId,
    ok: z.boolean(),
    node: z.string(),
    failedStep: z.string().nullable(),
    error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
    rolledBack: z.array(z.string()),
    undoFailed: z.array(z.strictObject({ step: z.string(), message: z.string() })),
    warnings: z.array(z.string()),
  }),
]);
export type EnrollmentEvent = z.output<typeof enrollmentEventSchema>;

export const nodesDomain = domain(
  {
    list: { params: noParams, result: z.array(nodeSummarySchema) },
    get: { params: z.strictObject({ name: nodeName }), result: nodeDetailSchema },
    /** First run: enroll this machine as the node `local` (the manager starts its agent). */
    addLocal: { params: noParams, result: nodeSummarySchema },
    /** Starts an enrollment over SSH; its progress comes as `enrollment` events with the returned id. */
    enroll: { params: enrollParamsSchema, result: z.strictObject({ id: enrollmentId }) },
    /** The user's answer to a `host-key` event. */
    confirmHostKey: { params: z.strictObject({ id: enrollmentId, fingerprint: z.string().min(1).max(256), accept: z.boolean() }), result: done },
    /** Removes a node (stops its programs, removes its agent); remote nodes need an SSH login; progress as `enrollment` events. */
    remove: { params: z.strictObject({ name: nodeName, auth: sshAuthSchema.optional() }), result: z.strictObject({ id: enrollmentId }) },
  },
  { enrollment: enrollmentEventSchema },
);
