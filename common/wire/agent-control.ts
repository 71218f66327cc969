import { z } from 'zod';
import { method } from '../rpc/envelope.js';
import { jobReplicaAnswerSchema, jobReplicaParamsSchema, jobResultsAnswerSchema, jobResultsParamsSchema, jobRunParamsSchema, jobRunSchema } from './jobs.js';
import { PROTOCOL_VERSION } from './protocol.js';
import { chunkBytes } from './chunk-bytes.js';
import { groupStatusSchema } from './failover-status.js';
import { checkpointMetaSchema } from './checkpoint-protocol.js';
import { mirrorApplyResultSchema, mirrorOpSchema, mirrorFileSchema, mirrorStatusSchema } from './mirror-wire.js';
import { agentEventSchema, serviceStatusSchema } from './service-status.js';
import { drillInjectParamsSchema, drillInjectResultSchema } from './drill.js';

/** Base64 characters of one replication chunk: 512 KiB of bytes, well under the message bound. */
export const REPLICATION_CHUNK_BYTES = 512 * 1024;

const serviceName = z.strictObject({ name: z.string().min(1).max(63) });
const done = z.strictObject({ message: z.string() });

/** The agent's control API, spoken over its Unix socket (and later over mTLS to the manager). */
export const agentControl = {
  hello: method(
    z.strictObject({ protocol: z.number().int() }),
    z.strictObject({
      protocol: z.literal(PROTOCOL_VERSION),
      agentVersion: z.string(),
      pid: z.number().int(),
      startedAt: z.string(),
      /** What this agent's control connections understand beyond the base protocol (WIRE_FEATURE_*); absent from older agents. */
      features: z.array(z.string().max(64)).max(64).optional(),
    }),
  ),
  status: method(
    z.strictObject({}).optional(),
    z.strictObject({
      agent: z.strictObject({ pid: z.number().int(), startedAt: z.string(), configFile: z.string(), configVersion: z.string() }),
      services: z.array(serviceStatusSchema),
      mirrors: z.array(mirrorStatusSchema).optional(),
    }),
  ),
  start: method(serviceName, done),
  stop: method(serviceName, done),
  restart: method(serviceName, done),
  reload: method(
    z.strictObject({}).optional(),
    z.strictObject({ message: z.string(), started: z.array(z.string()), stopped: z.array(z.string()), restarted: z.array(z.string()) }),
  ),
  logs: method(
    z.strictObject({ name: z.string().min(1).max(63), lines: z.number().int().min(0).max(100_000).default(100), follow: z.boolean().default(false) }),
    z.strictObject({ lines: z.array(z.string()) }),
    z.strictObject({ line: z.string() }),
  ),
  events: method(
    z
      .strictObject({
        limit: z.number().int().min(0).max(100_000).default(100),
        service: z.string().max(63).optional(),
        since: z.number().int().nonnegative().optional(),
        follow: z.boolean().default(false),
      })
      .optional(),
    z.strictObject({ events: z.array(agentEventSchema) }),
    agentEventSchema,
  ),
  shutdown: method(z.strictObject({}).optional(), done),
  /** A configuration signed by the manager; the agent verifies and persists it before acting. */
  'config.push': method(
    z.strictObject({
      config: z.unknown(),
      /** The cluster's peer key (base64, 32 bytes) that authenticates heartbeats between agents; never in the YAML. */
      peerKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'the peer key is 32 bytes in base64').optional(),
    }),
    z.strictObject({ version: z.number().int(), message: z.string(), started: z.array(z.string()), stopped: z.array(z.string()), restarted: z.array(z.string()) }),
  ),
  /** The failover groups this node votes in, as it sees them. */
  'failover.status': method(z.strictObject({}).optional(), z.strictObject({ groups: z.array(groupStatusSchema) })),
  /** Drain the node (it steps down from every group and stands for none) or make it available again. */
  'failover.drain': method(z.strictObject({ drained: z.boolean() }), done),
  /** Move a service's group to a member: every other member holds off until it is active (or `ms` pass). */
  'failover.move': method(z.strictObject({ name: z.string().min(1).max(63), to: z.string().min(1).max(63), ms: z.number().int().min(100).max(600_000).default(10_000) }), done),
  /** Make this node fit again for a service whose restart budget was spent here. */
  'failover.clear': method(serviceName, done),
  /** Prometheus text exposition of the agent's services. */
  metrics: method(z.strictObject({}).optional(), z.strictObject({ text: z.string() })),
  /** Runs a local-mode job of the configuration: its replicas as sandboxes on this node, voted. */
  'job.run': method(jobRunParamsSchema, jobRunSchema),
  /** Runs one replica of a nodes-mode job with the inputs the manager sends. */
  'job.replica': method(jobReplicaParamsSchema, jobReplicaAnswerSchema),
  /** The kept runs of a job, newest first. */
  'job.results': method(jobResultsParamsSchema, jobResultsAnswerSchema),
  /** A peer replicates a checkpoint here in chunks; `have` says how many bytes are staged (to resume). */
  'checkpoint.put': method(
    z.strictObject({ service: z.string().min(1).max(63), meta: checkpointMetaSchema, offset: z.number().int().nonnegative(), data: chunkBytes(REPLICATION_CHUNK_BYTES), final: z.boolean() }),
    z.strictObject({ have: z.number().int().nonnegative(), stored: z.boolean() }),
  ),
  /** A peer mirrors one change of a watched folder here (the active node's writes to a standby). */
  'mirror.apply': method(
    z.strictObject({ service: z.string().min(1).max(63), folder: z.string().min(1).max(4096), epoch: z.number().int().nonnegative(), op: mirrorOpSchema }),
    mirrorApplyResultSchema,
  ),
  /** A page of the mirrored copy's files, for catch-up and scrub. */
  'mirror.list': method(
    z.strictObject({ service: z.string().min(1).max(63), folder: z.string().min(1).max(4096), after: z.string().max(4096).optional(), limit: z.number().int().min(1).max(2000).default(1000), checksums: z.boolean().default(false) }),
    z.strictObject({ files: z.array(mirrorFileSchema), more: z.boolean() }),
  ),
  /** A failover drill: inject a fault on this node for a service it runs (undone by the agent when the duration is over). */
  'drill.inject': method(drillInjectParamsSchema, drillInjectResultSchema),
} as const;

export type AgentControl = typeof agentControl;
export type AgentMethod = keyof AgentControl;
export type ParamsOf<M extends AgentMethod> = z.input<AgentControl[M]['params']>;
export type ResultOf<M extends AgentMethod> = z.output<AgentControl[M]['result']>;
