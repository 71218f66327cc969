import type { JobOutcome, JobRun, ReplicaResult } from '../wire/jobs.js';
import { voteReplicas, type VoteResult } from './vote.js';

export type JobAttempt = JobRun['attempts'][number];

/** How a replica is named to a person. */
export function replicaLabel(r: Pick<ReplicaResult, 'replica' | 'node'>): string {
  return r.node !== undefined ? `replica ${r.replica} on ${r.node}` : `replica ${r.replica}`;
}

export interface VotedRun {
  attempts: JobAttempt[];
  vote: VoteResult;
  /** One replica that holds the winning result (its outputs are delivered), or null. */
  winner: ReplicaResult | null;
}

/**
 * Runs attempts until the replicas reach a majority or `retries` re-runs are spent: the same for
 * local sandboxes and for nodes. Each attempt is voted with the one k-of-n voter and reported.
 */
export async function runVotedAttempts(
  spec: { quorum: number; retries: number },
  runAttempt: (attempt: number) => Promise<ReplicaResult[]>,
  onAttempt: (attempt: JobAttempt, vote: VoteResult) => void = () => undefined,
): Promise<VotedRun> {
  const attempts: JobAttempt[] = [];
  for (let attempt = 1; ; attempt += 1) {
    const results = await runAttempt(attempt);
    const vote = voteReplicas(
      results.map((r) => ({ replica: r.replica, label: replicaLabel(r), status: r.status, fingerprint: r.fingerprint, reason: r.reason })),
      spec.quorum,
    );
    const record: JobAttempt = {
      attempt,
      decided: vote.decided,
      votes: vote.votes,
      summary: vote.summary,
      replicas: results.map((r, i) => {
        const j = vote.judgements[i] as VoteResult['judgements'][number];
        return { ...r, verdict: j.verdict, reason: j.reason };
      }),
    };
    attempts.push(record);
    onAttempt(record, vote);
    if (vote.decided) return { attempts, vote, winner: results.find((r) => r.fingerprint === vote.winner) ?? null };
    if (attempt > spec.retries) return { attempts, vote, winner: null };
  }
}

/** The outcome of a voted run: agreed on exit 0, agreed on a failure, or no majority. */
export function outcomeOf(run: VotedRun): JobOutcome {
  if (!run.vote.decided || run.winner === null) return 'no-majority';
  return run.winner.exitCode === 0 ? 'succeeded' : 'command-failed';
}

/** One line for a person: what happened, the vote, who dissented. */
export function summarizeRun(job: string, run: VotedRun, outcome: JobOutcome): string {
  const n = run.attempts.length;
  const tries = n === 1 ? '' : ` after ${n} attempts`;
  switch (outcome) {
    case 'succeeded':
      return `job ${job} succeeded${tries}: ${run.vote.summary}`;
    case 'command-failed':
      return `job ${job} failed${tries}: the replicas agree that the command ends with exit code ${run.winner?.exitCode ?? '?'}; ${run.vote.summary}`;
    case 'no-majority':
      return `job ${job} FAILED${tries}: ${run.vote.summary}`;
    case 'failed':
      return `job ${job} FAILED${tries}`;
  }
}

/** The replicas of an attempt that did not agree, for the journal. */
export function dissentersOf(attempt: JobAttempt): { replica: number; node?: string; verdict: string; reason: string }[] {
  return attempt.replicas.filter((r) => r.verdict !== 'agreed').map((r) => ({ replica: r.replica, ...(r.node !== undefined ? { node: r.node } : {}), verdict: r.verdict, reason: r.reason }));
}

/**
 * The record of a finished run, the same for sandboxes and nodes. `failure` overrides the voted
 * outcome when the run failed after the vote (the winner's outputs could not be delivered).
 */
export function jobRunRecord(
  head: Pick<JobRun, 'id' | 'job' | 'mode' | 'runner' | 'startedAt' | 'delivered'>,
  spec: { quorum: number; replicas: number },
  voted: VotedRun,
  failure: { code: string; message: string } | null = null,
): JobRun {
  const outcome: JobOutcome = failure ? 'failed' : outcomeOf(voted);
  const summary = `${summarizeRun(head.job, voted, outcome)}${failure ? `; ${failure.message}` : ''}`;
  return {
    ...head,
    finishedAt: new Date().toISOString(),
    outcome,
    quorum: spec.quorum,
    replicas: spec.replicas,
    exitCode: voted.winner?.exitCode ?? null,
    winner: voted.vote.winner,
    attempts: voted.attempts,
    error: failure ?? (outcome === 'no-majority' ? { code: 'JOB_E_NO_MAJORITY', message: summary } : null),
    summary,
  };
}
