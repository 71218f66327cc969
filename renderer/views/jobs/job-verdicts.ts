import type { JobProgress } from '../../../common/bridge/jobs.js';
import type { JobRun } from '../../../common/wire/jobs.js';
import { h } from '../../components/dom.js';
import type { Tone } from '../../components/state-label.js';

type Replica = JobRun['attempts'][number]['replicas'][number];

/** How a replica is named: "replica 3", or "replica 3 on h1" for a job on nodes. */
export function replicaName(r: Pick<Replica, 'replica' | 'node'>): string {
  return r.node !== undefined ? `replica ${r.replica} on ${r.node}` : `replica ${r.replica}`;
}

/** A verdict in words and colour: agreed is fine, every other verdict is named as a problem. */
export function verdictLabel(verdict: Replica['verdict']): { text: string; tone: Tone } {
  switch (verdict) {
    case 'agreed':
      return { text: 'agreed', tone: 'ok' };
    case 'dissented':
      return { text: 'dissented', tone: 'bad' };
    case 'crashed':
      return { text: 'crashed', tone: 'bad' };
    case 'timed-out':
      return { text: 'timed out', tone: 'bad' };
    case 'failed-to-start':
      return { text: 'did not start', tone: 'bad' };
    case 'undecided':
      return { text: 'no majority', tone: 'warn' };
  }
}

/** The outcome of a run in words and colour. */
export function outcomeLabel(outcome: JobRun['outcome']): { text: string; tone: Tone } {
  switch (outcome) {
    case 'succeeded':
      return { text: 'succeeded', tone: 'ok' };
    case 'command-failed':
      return { text: 'command failed', tone: 'warn' };
    case 'no-majority':
      return { text: 'FAILED: no majority', tone: 'bad' };
    case 'failed':
      return { text: 'FAILED', tone: 'bad' };
  }
}

/** The state of a run started from the GUI, in words and colour. */
export function progressLabel(p: JobProgress): { text: string; tone: Tone } {
  if (p.state === 'running') return { text: p.attempt === null ? 'running' : `running (attempt ${p.attempt} voted)`, tone: 'warn' };
  if (p.state === 'error') return { text: 'could not run', tone: 'bad' };
  return p.result ? outcomeLabel(p.result.outcome) : { text: 'finished', tone: 'idle' };
}

export function badge(label: { text: string; tone: Tone }, props: Record<string, unknown> = {}): HTMLElement {
  return h('span', { class: `badge tone-${label.tone}`, ...props }, label.text);
}

/** The replicas of a run's last attempt that did not agree: the ones a person must hear about. */
export function dissenters(run: JobRun): Replica[] {
  return (run.attempts.at(-1)?.replicas ?? []).filter((r) => r.verdict !== 'agreed');
}

export function fmtDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s` : `${Math.round(ms / 60_000)} min`;
}

/** A sha256 shortened for a table; the whole hash is in its title. */
export function shortHash(sha: string | null): HTMLElement {
  return sha === null ? h('span', { class: 'hash' }, '–') : h('code', { class: 'hash', title: sha }, sha.slice(0, 12));
}
