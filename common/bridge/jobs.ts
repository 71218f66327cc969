import { z } from 'zod';
import { name } from '../config/names.js';
import { JOB_OUTCOMES, jobRunSchema } from '../wire/jobs.js';
import { nodeName, noParams } from './common.js';
import { domain } from './domain.js';

export const jobName = name('job');
/** The id of a kept run (as the results folder names it) or of a run started from the GUI. */
export const runId = z.string().regex(/^[0-9A-Za-z-]{1,64}$/, 'a run id is 1-64 characters of A-Z, a-z, 0-9 or "-"');

/** A job as the applied configuration declares it, with its latest kept run and any run of it in progress. */
export const jobViewSchema = z.strictObject({
  name: z.string(),
  command: z.string(),
  args: z.array(z.string()),
  /** local: N sandboxes on one node; nodes: one replica on each of N nodes. */
  mode: z.enum(['local', 'nodes']),
  replicas: z.number().int().min(1),
  /** Matching results needed (k of n). */
  quorum: z.number().int().min(1),
  /** With mode nodes, the nodes replicas may run on (empty: every enrolled node). */
  nodes: z.array(z.string()),
  timeoutMs: z.number().nonnegative(),
  retries: z.number().int().nonnegative(),
  inputs: z.array(z.string()),
  outputs: z.array(z.string()),
  stdin: z.string().nullable(),
  /** The GUI run of this job in progress, if any. */
  running: runId.nullable(),
  last: z.strictObject({ id: z.string(), outcome: z.enum(JOB_OUTCOMES), finishedAt: z.string(), summary: z.string() }).nullable(),
});
export type JobView = z.output<typeof jobViewSchema>;

export const JOB_PROGRESS_STATES = ['running', 'finished', 'error'] as const;

/**
 * A run started from the GUI, as it goes: running (with the attempts voted so far), finished (with
 * the kept result, whatever its outcome), or error (it could not run at all: the code says why).
 */
export const jobProgressSchema = z.strictObject({
  runId,
  job: z.string(),
  mode: z.enum(['local', 'nodes']),
  /** Who runs it: the node whose sandboxes run a local job, or "manager" for a job on nodes. */
  runner: z.string(),
  state: z.enum(JOB_PROGRESS_STATES),
  startedAt: z.string(),
  /** The latest attempt voted, or null before the first vote. */
  attempt: z.number().int().min(1).nullable(),
  /** One line for a person: what is happening, or the outcome. */
  summary: z.string(),
  /** The id of the kept result, once known. */
  resultId: z.string().nullable(),
  result: jobRunSchema.nullable(),
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
});
export type JobProgress = z.output<typeof jobProgressSchema>;

export const jobsDomain = domain(
  {
    /** The jobs of the applied configuration. */
    list: { params: noParams, result: z.array(jobViewSchema) },
    /** Starts a job and answers at once with its run id; `progress` events follow, the last one with the result. */
    run: { params: z.strictObject({ name: jobName, node: nodeName.optional() }), result: z.strictObject({ runId, message: z.string() }) },
    /** Runs started from the GUI that are still going, and the last few that ended. */
    active: { params: noParams, result: z.array(jobProgressSchema) },
    /** Kept results, newest first: of one job, or of every job. */
    results: { params: z.strictObject({ job: jobName.optional(), limit: z.number().int().min(1).max(200).default(20) }), result: z.array(jobRunSchema) },
    /** One kept result: every attempt, every replica's verdict, hashes and reason, the delivered outputs. */
    result: { params: z.strictObject({ job: jobName, id: runId }), result: jobRunSchema },
    /** The start of one file a run delivered (`stdout`, `outputs/NAME`), where it is kept on this machine. */
    output: {
      params: z.strictObject({ job: jobName, id: runId, file: z.string().min(1).max(1024) }),
      result: z.strictObject({ text: z.string(), bytes: z.number().int().nonnegative(), truncated: z.boolean() }),
    },
  },
  {
    progress: jobProgressSchema,
  },
);
