import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { JobConfig } from '../../common/config/cluster.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { dissentersOf, jobRunRecord, runVotedAttempts, type JobAttempt } from '../../common/jobs/attempts.js';
import { newRunId, type Delivery, type JobResultStore } from '../../common/node/job-results.js';
import type { JobRun, ReplicaResult } from '../../common/wire/jobs.js';
import type { AgentEventInput } from '../../common/wire/service-status.js';
import { runReplica, type ReplicaRun } from './replica-sandbox.js';

export interface LocalJobContext {
  workRoot: string;
  store: JobResultStore;
  instance: string;
  runner: string;
  journal: (e: AgentEventInput) => void;
  abort?: AbortSignal;
}

/** Refuses a job whose inputs or stdin cannot be read, before any replica runs. */
export function checkInputFiles(name: string, spec: JobConfig): void {
  for (const file of [...spec.inputs, ...(spec.stdin !== undefined ? [spec.stdin] : [])]) {
    let ok = false;
    try {
      ok = fs.statSync(file).isFile();
      fs.accessSync(file, fs.constants.R_OK);
    } catch {
      ok = false;
    }
    if (!ok) throw new ArmoryError('JOB_E_INPUT_MISSING', `job ${name}: ${file === spec.stdin ? 'stdin file' : 'input'} ${file} is not a readable file`, { job: name, file });
  }
}

/**
 * Runs a local-mode job: N replicas as sandboxes of this node, fed identical input, voted k-of-n;
 * re-run up to `retries` times without a majority, then a loud failure. The winner's outputs and
 * stdout are delivered to the results folder, the run is kept, and every attempt is journaled
 * with the replicas that dissented, crashed, timed out or did not start.
 */
export async function runLocalJob(ctx: LocalJobContext, name: string, spec: JobConfig): Promise<JobRun> {
  checkInputFiles(name, spec);
  const id = newRunId();
  const startedAt = new Date().toISOString();
  const workDir = path.join(ctx.workRoot, name, id);
  const runs = new Map<number, ReplicaRun>();
  ctx.journal({ kind: 'job', reason: `job ${name}: run ${id} started (${spec.replicas} replicas, quorum ${spec.quorum})`, detail: { job: name, run: id } });
  try {
    const voted = await runVotedAttempts(
      spec,
      async (attempt) => {
        runs.clear();
        const settled = await Promise.allSettled(
          Array.from({ length: spec.replicas }, (_, i) =>
            runReplica({
              job: name,
              replica: i + 1,
              attempt,
              command: spec.command,
              args: spec.args,
              outputs: spec.outputs,
              timeoutMs: spec.timeout,
              inputs: spec.inputs.map((from) => ({ name: path.basename(from), from })),
              stdin: spec.stdin !== undefined ? { from: spec.stdin } : null,
              dir: path.join(workDir, `attempt-${attempt}`, `replica-${i + 1}`),
              instance: ctx.instance,
              ...(ctx.abort ? { abort: ctx.abort } : {}),
            }),
          ),
        );
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failed) throw failed.reason;
        return settled.map((s) => {
          const run = (s as PromiseFulfilledResult<ReplicaRun>).value;
          runs.set(run.result.replica, run);
          return run.result;
        });
      },
      (attempt) =>
        ctx.journal({
          kind: 'job',
          reason: `job ${name}: attempt ${attempt.attempt}: ${attempt.summary}`,
          detail: { job: name, run: id, attempt: attempt.attempt, decided: attempt.decided, dissenters: dissentersOf(attempt) },
        }),
    );
    let delivered: JobRun['delivered'] = null;
    if (voted.winner) delivered = await deliverWinner(ctx.store, name, id, runs.get(voted.winner.replica) as ReplicaRun, voted.winner);
    const run = jobRunRecord({ id, job: name, mode: 'local', runner: ctx.runner, startedAt, delivered }, spec, voted);
    await ctx.store.save(run);
    ctx.journal({
      kind: 'job',
      reason: run.summary,
      detail: { job: name, run: id, outcome: run.outcome, ...(delivered ? { delivered: delivered.dir } : {}), dissenters: dissentersOf(voted.attempts.at(-1) as JobAttempt) },
    });
    return run;
  } finally {
    await fsp.rm(workDir, { recursive: true, force: true });
  }
}

async function deliverWinner(store: JobResultStore, job: string, id: string, run: ReplicaRun, winner: ReplicaResult): Promise<NonNullable<JobRun['delivered']>> {
  const files: Delivery[] = winner.outputs.filter((o) => o.sha256 !== null).map((o) => ({ path: `outputs/${o.path}`, from: path.join(run.workDir, o.path) }));
  files.push({ path: 'stdout', from: run.stdoutFile });
  const done = await store.deliver(job, id, files);
  return { dir: store.runDir(job, id), files: done };
}
