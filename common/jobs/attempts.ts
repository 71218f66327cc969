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
