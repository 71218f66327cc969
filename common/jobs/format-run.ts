import type { JobRun } from '../wire/jobs.js';
import { replicaLabel } from './attempts.js';

const first = (s: string) => s.split('\n')[0] ?? '';

/** A job run for a person, as both command lines print it: outcome, the vote, every replica, the dissenters. */
export function formatJobRun(run: JobRun): string {
  const lines: string[] = [];
  const last = run.attempts.at(-1);
  const head = run.outcome === 'succeeded' ? 'SUCCEEDED' : run.outcome === 'command-failed' ? 'COMMAND FAILED' : 'FAILED';
  lines.push(`job ${run.job}: ${head} — ${last ? `${last.votes} of ${run.replicas} agree, quorum ${run.quorum}` : 'no attempt ran'}${run.exitCode !== null ? `, exit code ${run.exitCode}` : ''}`);
  lines.push(`  run ${run.id} (${run.mode === 'local' ? 'local sandboxes' : 'one replica per node'}, by ${run.runner}), ${run.startedAt} → ${run.finishedAt}`);
  for (const a of run.attempts) {
    lines.push(`  attempt ${a.attempt}: ${a.decided ? 'majority' : 'no majority'}`);
    for (const r of a.replicas) {
      const mark = r.verdict === 'agreed' ? 'agreed' : r.verdict.toUpperCase();
      lines.push(`    ${replicaLabel(r).padEnd(24)} ${mark.padEnd(16)} ${(r.fingerprint ?? '-').slice(0, 12).padEnd(12)}  ${first(r.reason)}`);
      if (r.verdict !== 'agreed' && r.stderrTail.trim() !== '') lines.push(`      stderr: ${first(r.stderrTail.trim().split('\n').at(-1) ?? '')}`);
    }
  }
  const named = (last?.replicas ?? []).filter((r) => r.verdict !== 'agreed' && r.verdict !== 'undecided');
  if (named.length > 0) lines.push(`  dissenting: ${named.map((r) => `${replicaLabel(r)} (${r.verdict})`).join(', ')}`);
  if (run.delivered) lines.push(`  delivered to ${run.delivered.dir}: ${run.delivered.files.join(', ')}`);
  if (run.error) lines.push(`  ${first(run.error.message)} [${run.error.code}]`);
  return lines.join('\n');
}

/** The exit code of a command line that ran a job: 0 only when the replicas agreed on success. */
export function jobExitCode(run: JobRun): number {
  return run.outcome === 'succeeded' ? 0 : 1;
}
