import { createHash } from 'node:crypto';
import type { ArmoryError } from '../../../common/errors/armory-error.js';
import { replicaFingerprint } from '../../../common/node/job-fingerprint.js';
import type { ControlClient } from '../../../common/node/rpc-client.js';
import { jobReplicaAnswerSchema, type JobReplicaAnswer, type ReplicaResult } from '../../../common/wire/jobs.js';
import type { JobPayload } from './job-inputs.js';

/** How long past the job's own timeout the manager waits for a node's answer, by default. */
export const REPLICA_ANSWER_GRACE_MS = 15_000;

export interface NodeReplicaRequest {
  job: string;
  specSha256: string;
  replica: number;
  attempt: number;
  node: string;
  timeoutMs: number;
  /** How long past timeoutMs to wait for the answer before counting the node as silent. */
  graceMs: number;
  /** The job's declared outputs: the node must report exactly these, in this order. */
  outputs: readonly string[];
  payload: JobPayload;
}

export interface NodeReplica {
  result: ReplicaResult;
  answer: JobReplicaAnswer | null;
}

const nothing = { exitCode: null, signal: null, durationMs: 0, stdoutSha256: null, stdoutBytes: 0, outputs: [], fingerprint: null, stderrTail: '' };

/** A replica that produced nothing to vote with, and why. */
function noResult(req: NodeReplicaRequest, status: 'failed-to-start' | 'crashed' | 'timed-out', reason: string): NodeReplica {
  return { result: { ...nothing, replica: req.replica, node: req.node, status, reason }, answer: null };
}

/**
 * Runs one replica on a node through its agent and checks what comes back: the answer must match
 * the contract, and the fingerprint is computed here from the parts, never taken on trust. A node
 * that cannot be reached, refuses, goes silent or is lost midway gives a replica without a result.
 */
export async function runReplicaOnNode(connect: (node: string) => Promise<ControlClient>, req: NodeReplicaRequest): Promise<NodeReplica> {
  let client: ControlClient;
  try {
    client = await connect(req.node);
  } catch (e) {
    return noResult(req, 'failed-to-start', `node ${req.node} unreachable: ${(e as Error).message}`);
  }
  let timer: NodeJS.Timeout | undefined;
  const waitMs = req.timeoutMs + req.graceMs;
  try {
    const silent = new Promise<'silent'>((resolve) => (timer = setTimeout(() => resolve('silent'), waitMs)));
    const call = client.call('job.replica', { job: req.job, specSha256: req.specSha256, replica: req.replica, attempt: req.attempt, inputs: req.payload.inputs, ...(req.payload.stdin !== undefined ? { stdin: req.payload.stdin } : {}) });
    // Closing the client below rejects a call that lost the race: that rejection is expected.
    call.catch(() => undefined);
    const answer = await Promise.race([call, silent]);
    if (answer === 'silent') return noResult(req, 'timed-out', `node ${req.node} gave no answer within ${waitMs} ms`);
    const parsed = jobReplicaAnswerSchema.safeParse(answer);
    if (!parsed.success) return noResult(req, 'failed-to-start', `node ${req.node} answered with a malformed result (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    const r = parsed.data.result;
    if (r.outputs.map((o) => o.path).join('\0') !== req.outputs.join('\0')) return noResult(req, 'failed-to-start', `node ${req.node} reported other output files than the job declares`);
    const fingerprint =
      r.status === 'exited' && r.exitCode !== null && r.stdoutSha256 !== null ? replicaFingerprint({ exitCode: r.exitCode, stdoutSha256: r.stdoutSha256, outputs: r.outputs }) : null;
    return { result: { ...r, replica: req.replica, node: req.node, fingerprint }, answer: parsed.data };
  } catch (e) {
    const err = e as ArmoryError;
    if (err.code === 'AGENT_E_UNREACHABLE') return noResult(req, 'crashed', `lost node ${req.node} while its replica ran: ${err.message}`);
    return noResult(req, 'failed-to-start', `node ${req.node} refused: ${err.message}${err.code ? ` [${err.code}]` : ''}`);
  } finally {
    clearTimeout(timer);
    client.close();
  }
}

/** The winner's output files from one answer, each checked against the hash the vote was on; null if any does not match or is missing. */
export function verifiedOutputs(replica: NodeReplica): { path: string; data: Buffer }[] | null {
  const sent = replica.answer?.outputs;
  if (!sent) return null;
  const files: { path: string; data: Buffer }[] = [];
  for (const o of replica.result.outputs) {
    if (o.sha256 === null) continue;
    const f = sent.find((s) => s.path === o.path);
    if (!f) return null;
    const data = Buffer.from(f.data, 'base64');
    if (createHash('sha256').update(data).digest('hex') !== o.sha256) return null;
    files.push({ path: o.path, data });
  }
  return files;
}
