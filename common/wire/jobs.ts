import { z } from 'zod';
import { NAME_PATTERN } from '../config/names.js';
import { REPLICA_STATUSES, REPLICA_VERDICTS } from '../jobs/vote.js';

/**
 * Bytes of input files and stdin one job.replica request may carry, and of output files one answer
 * may carry (raw, before base64): with base64's 4/3 and the JSON around it, a message stays under
 * the 1 MiB bound of every Armory connection.
 */
export const JOB_TRANSFER_LIMIT = 512 * 1024;
/** Bytes of a replica's stdout sent back with its result (its hash always covers all of it). */
export const JOB_STDOUT_RETURN_BYTES = 64 * 1024;
/** Bytes of the end of a replica's stderr kept in its result, to show why it failed. */
export const JOB_STDERR_TAIL_BYTES = 512;

const jobName = z.string().regex(NAME_PATTERN, 'not a job name');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'not a sha256 in hex');
/** A plain file name inside a replica's working directory. */
export const jobFileName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^/\0]+$/, 'a file name has no "/"')
  .refine((n) => n !== '.' && n !== '..', 'not a file name');
const base64 = (maxBytes: number) =>
  z
    .string()
    .max(Math.ceil(maxBytes / 3) * 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');

/** The decoded size of a base64 text, without decoding it. */
export function base64Bytes(text: string): number {
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - pad;
}

export const outputHashSchema = z.strictObject({
  path: z.string().min(1).max(1024),
  /** null when the replica did not leave that file (a missing file is part of the fingerprint). */
  sha256: sha256.nullable(),
  bytes: z.number().int().nonnegative().nullable(),
});

/** What one replica produced, as the voter and a person need it. */
export const replicaResultSchema = z.strictObject({
  replica: z.number().int().min(1).max(15),
  /** The node it ran on (nodes mode), else absent. */
  node: z.string().max(63).optional(),
  status: z.enum(REPLICA_STATUSES),
  reason: z.string().max(4096),
  exitCode: z.number().int().nullable(),
  signal: z.string().max(32).nullable(),
  durationMs: z.number().nonnegative(),
  stdoutSha256: sha256.nullable(),
  stdoutBytes: z.number().int().nonnegative(),
  outputs: z.array(outputHashSchema).max(64),
  /** sha256 over exit code, stdout hash and every output's hash; null unless the replica exited. */
  fingerprint: sha256.nullable(),
  stderrTail: z.string().max(JOB_STDERR_TAIL_BYTES * 4),
});
export type ReplicaResult = z.output<typeof replicaResultSchema>;

export const replicaRecordSchema = replicaResultSchema.extend({ verdict: z.enum(REPLICA_VERDICTS) });
export type ReplicaRecord = z.output<typeof replicaRecordSchema>;

export const JOB_OUTCOMES = ['succeeded', 'command-failed', 'no-majority', 'failed'] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

/** One run of a job: every attempt's vote and replicas, the outcome, where the winner's outputs went. */
export const jobRunSchema = z.strictObject({
  id: z.string().regex(/^[0-9A-Za-z-]{1,64}$/),
  job: jobName,
  mode: z.enum(['local', 'nodes']),
  /** Who ran it: the agent's node name ("this node" for a standalone agent) or "manager". */
  runner: z.string().max(63),
  startedAt: z.string(),
  finishedAt: z.string(),
  outcome: z.enum(JOB_OUTCOMES),
  quorum: z.number().int().min(1),
  replicas: z.number().int().min(1),
  exitCode: z.number().int().nullable(),
  winner: sha256.nullable(),
  attempts: z
    .array(
      z.strictObject({
        attempt: z.number().int().min(1),
        decided: z.boolean(),
        votes: z.number().int().nonnegative(),
        summary: z.string().max(65_536),
        replicas: z.array(replicaRecordSchema).max(15),
      }),
    )
    .max(11),
  delivered: z.strictObject({ dir: z.string().max(4096), files: z.array(z.string().max(1024)).max(65) }).nullable(),
  error: z.strictObject({ code: z.string().max(64), message: z.string().max(65_536) }).nullable(),
  summary: z.string().max(65_536),
});
export type JobRun = z.output<typeof jobRunSchema>;

/** The manager asks a node to run one replica of a job its signed configuration names, with these inputs. */
export const jobReplicaParamsSchema = z
  .strictObject({
    job: jobName,
    /** sha256 of the job's entry as the manager has it: the node refuses to run another version. */
    specSha256: sha256,
    replica: z.number().int().min(1).max(15),
    attempt: z.number().int().min(1).max(11),
    stdin: base64(JOB_TRANSFER_LIMIT).optional(),
    inputs: z.array(z.strictObject({ name: jobFileName, data: base64(JOB_TRANSFER_LIMIT) })).max(64).default([]),
  })
  .superRefine((p, ctx) => {
    const total = p.inputs.reduce((n, i) => n + base64Bytes(i.data), base64Bytes(p.stdin ?? ''));
    if (total > JOB_TRANSFER_LIMIT) ctx.addIssue({ code: 'custom', path: ['inputs'], message: `inputs and stdin are ${total} bytes; at most ${JOB_TRANSFER_LIMIT} may be sent` });
    if (new Set(p.inputs.map((i) => i.name)).size !== p.inputs.length) ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'two inputs have the same name' });
  });

export const jobReplicaAnswerSchema = z.strictObject({
  result: replicaResultSchema,
  /** The start of stdout (base64), at most JOB_STDOUT_RETURN_BYTES. */
  stdout: base64(JOB_STDOUT_RETURN_BYTES),
  stdoutTruncated: z.boolean(),
  /** The output files that exist (base64), or null when together they exceed JOB_TRANSFER_LIMIT. */
  outputs: z.array(z.strictObject({ path: z.string().min(1).max(1024), data: base64(JOB_TRANSFER_LIMIT) })).max(64).nullable(),
});
export type JobReplicaAnswer = z.output<typeof jobReplicaAnswerSchema>;

export const jobRunParamsSchema = z.strictObject({ name: jobName });
export const jobResultsParamsSchema = z.strictObject({ name: jobName, limit: z.number().int().min(1).max(100).default(10) });
export const jobResultsAnswerSchema = z.strictObject({ runs: z.array(jobRunSchema) });
