/** How one replica's run ended, as the voter sees it. Only a replica that exited on its own has a result to vote with. */
export const REPLICA_STATUSES = ['exited', 'crashed', 'timed-out', 'failed-to-start'] as const;
export type ReplicaStatus = (typeof REPLICA_STATUSES)[number];

/** What the vote says about one replica. */
export const REPLICA_VERDICTS = ['agreed', 'dissented', 'undecided', 'crashed', 'timed-out', 'failed-to-start'] as const;
export type ReplicaVerdict = (typeof REPLICA_VERDICTS)[number];

export interface VoteInput {
  /** 1-based replica number. */
  replica: number;
  /** How the replica is named to a person: "replica 2", or the node it ran on. */
  label: string;
  status: ReplicaStatus;
  /** The result's fingerprint (exit code, stdout, output files); null unless status is exited. */
  fingerprint: string | null;
  /** Why it ended as it did ("exit code 0", "killed by SIGSEGV", "no answer within 2s", …). */
  reason: string;
}

export interface ReplicaJudgement {
  replica: number;
  label: string;
  verdict: ReplicaVerdict;
  fingerprint: string | null;
  reason: string;
}

export interface VoteResult {
  /** True when one fingerprint is held by at least `quorum` replicas and by more than any other. */
  decided: boolean;
  quorum: number;
  replicas: number;
  /** The winning fingerprint, or null. */
  winner: string | null;
  /** How many replicas hold the winning fingerprint (or the most common one when undecided). */
  votes: number;
  judgements: ReplicaJudgement[];
  /** One line for a person: "2 of 3 agree (quorum 2); dissenting: replica 3 (…)". */
  summary: string;
}

const short = (fp: string | null): string => (fp === null ? '-' : fp.slice(0, 12));

/**
 * The k-of-n voter. Replicas that exited are grouped by fingerprint; the fingerprint held by at
 * least `quorum` replicas wins, provided no other fingerprint is held by as many (a tie decides
 * nothing). Crashed, timed-out and failed-to-start replicas never vote and are named with their
 * reason; exited replicas outside the winning group are named as dissenting. Pure and total: any
 * list and any quorum ≥ 1 give an answer.
 */
export function voteReplicas(replicas: readonly VoteInput[], quorum: number): VoteResult {
  const counts = new Map<string, number>();
  for (const r of replicas) {
    if (r.status === 'exited' && r.fingerprint !== null) counts.set(r.fingerprint, (counts.get(r.fingerprint) ?? 0) + 1);
  }
  let best: string | null = null;
  let bestVotes = 0;
  let tied = false;
  // Sorted so that the answer does not depend on the order replicas finished in.
  for (const [fp, n] of [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (n > bestVotes) {
      best = fp;
      bestVotes = n;
      tied = false;
    } else if (n === bestVotes) {
      tied = true;
    }
  }
  const decided = best !== null && !tied && bestVotes >= quorum;
  const winner = decided ? best : null;
  const judgements: ReplicaJudgement[] = replicas.map((r) => {
    const base = { replica: r.replica, label: r.label, fingerprint: r.status === 'exited' ? r.fingerprint : null };
    if (r.status !== 'exited' || r.fingerprint === null) {
      const verdict: ReplicaVerdict = r.status === 'exited' ? 'failed-to-start' : r.status;
      return { ...base, verdict, reason: r.reason };
    }
    if (winner === null) return { ...base, verdict: 'undecided', reason: `${r.reason}; result ${short(r.fingerprint)} reached no majority` };
    if (r.fingerprint === winner) return { ...base, verdict: 'agreed', reason: r.reason };
    return { ...base, verdict: 'dissented', reason: `${r.reason}; result ${short(r.fingerprint)} differs from the majority's ${short(winner)}` };
  });
  const named = judgements.filter((j) => j.verdict !== 'agreed' && j.verdict !== 'undecided').map((j) => `${j.label} ${j.verdict} (${j.reason})`);
  let summary: string;
  if (decided) {
    summary = `${bestVotes} of ${replicas.length} agree (quorum ${quorum})`;
  } else if (best === null) {
    summary = `no majority: no replica produced a result (quorum ${quorum})`;
  } else if (tied) {
    summary = `no majority: a tie at ${bestVotes} of ${replicas.length} between different results (quorum ${quorum})`;
  } else {
    summary = `no majority: at most ${bestVotes} of ${replicas.length} agree, quorum is ${quorum}`;
  }
  if (named.length > 0) summary += `; ${named.join('; ')}`;
  return { decided, quorum, replicas: replicas.length, winner, votes: bestVotes, judgements, summary };
}
