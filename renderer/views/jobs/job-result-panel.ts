import type { JobRun } from '../../../common/wire/jobs.js';
import { fmtTime, h, type Child } from '../../components/dom.js';
import { badge, dissenters, fmtDuration, outcomeLabel, replicaName, shortHash, verdictLabel } from './job-verdicts.js';

const dl = (pairs: [string, string | Node][]) => h('dl', { class: 'facts' }, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));

/** One attempt: a row per replica with its verdict, where it ran, how it ended and the hashes it was voted on. */
function attemptTable(run: JobRun, a: JobRun['attempts'][number]): HTMLElement {
  const where = (r: (typeof a.replicas)[number]) => (r.node !== undefined ? `node ${r.node}` : `sandbox ${r.replica} on ${run.runner}`);
  return h(
    'table',
    { class: 'grid job-replicas', testid: `job-attempt-${a.attempt}` },
    h('caption', {}, `Attempt ${a.attempt}: ${a.decided ? 'majority' : 'no majority'} — ${a.summary}`),
    h('thead', {}, h('tr', {}, ...['Replica', 'Ran in', 'Verdict', 'Exit', 'Duration', 'stdout sha256', 'Outputs', 'Why'].map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      a.replicas.map((r) =>
        h(
          'tr',
          { testid: `job-replica-${a.attempt}-${r.replica}`, 'data-verdict': r.verdict, class: r.verdict === 'agreed' ? '' : 'job-odd' },
          h('th', { scope: 'row' }, `replica ${r.replica}`),
          h('td', {}, where(r)),
          h('td', {}, badge(verdictLabel(r.verdict), { testid: `job-verdict-${a.attempt}-${r.replica}` })),
          h('td', {}, r.exitCode !== null ? String(r.exitCode) : (r.signal ?? '–')),
          h('td', {}, fmtDuration(r.durationMs)),
          h('td', {}, shortHash(r.stdoutSha256), ` (${r.stdoutBytes} B)`),
          h('td', {}, r.outputs.length === 0 ? '–' : h('ul', { class: 'plain' }, r.outputs.map((o) => h('li', {}, `${o.path}: `, o.sha256 === null ? 'missing' : shortHash(o.sha256))))),
          h('td', { class: 'why' }, r.reason, r.verdict !== 'agreed' && r.stderrTail.trim() !== '' ? h('pre', { class: 'stderr' }, r.stderrTail.trim().split('\n').slice(-3).join('\n')) : null),
        ),
      ),
    ),
  );
}

/**
 * One kept result: the outcome, the replicas that did not agree (named first), the delivered outputs
 * of the majority, the loud failure when there was none, and every attempt replica by replica.
 */
/** What a file a run delivered holds (the start of it), as the bridge's `jobs.output` answers. */
export type OutputLoader = (file: string) => Promise<{ text: string; bytes: number; truncated: boolean }>;

const PREVIEWED_FILES = 4;

/** The delivered files with the start of each shown (or why the manager cannot read it: kept on another node). */
function deliveredFiles(run: JobRun, delivered: NonNullable<JobRun['delivered']>, load: OutputLoader): HTMLElement {
  return h(
    'div',
    { testid: 'job-detail-delivered' },
    h('p', {}, `Delivered to ${delivered.dir}${run.mode === 'local' ? ` on ${run.runner}` : ''}:`),
    h(
      'ul',
      { class: 'plain' },
      delivered.files.map((f, i) => {
        const item = h('li', {}, h('code', {}, `${delivered.dir}/${f}`));
        if (i >= PREVIEWED_FILES) return item;
        const pre = h('pre', { class: 'log', tabindex: 0, 'aria-label': `The start of ${f}`, testid: `job-output-${f}` }, 'Loading…');
        load(f).then(
          (o) => (pre.textContent = o.text === '' ? '(empty)' : `${o.text}${o.truncated ? `\n… (${o.bytes} bytes in all)` : ''}`),
          (e: unknown) => (pre.textContent = (e as Error).message ?? String(e)),
        );
        item.append(pre);
        return item;
      }),
    ),
  );
}

export function jobResultPanel(run: JobRun, load: OutputLoader): Child[] {
  const odd = dissenters(run);
  const out = outcomeLabel(run.outcome);
  const delivered = run.delivered;
  return [
    h('p', {}, badge(out, { testid: 'job-detail-outcome' }), ' ', h('span', { testid: 'job-detail-summary' }, run.summary)),
    run.error
      ? h('div', { class: 'job-failure', role: 'alert', testid: 'job-detail-error' }, h('strong', {}, `The job failed loudly [${run.error.code}]: `), run.error.message)
      : null,
    odd.length > 0
      ? h('p', { testid: 'job-detail-named' }, h('strong', {}, 'Did not agree: '), odd.map((r, i) => [i > 0 ? ', ' : '', `${replicaName(r)} (${verdictLabel(r.verdict).text}: ${r.reason})`]))
      : h('p', { testid: 'job-detail-named' }, 'Every replica agreed.'),
    dl([
      ['Run', run.id],
      ['Runs as', run.mode === 'local' ? `${run.replicas} sandboxes on ${run.runner}` : `one replica per node (voted by the ${run.runner})`],
      ['Vote', `${run.attempts.at(-1)?.votes ?? 0} of ${run.replicas} agree, quorum ${run.quorum}`],
      ['Attempts', run.attempts.length === 1 ? '1' : `${run.attempts.length} (${run.attempts.length - 1} re-run${run.attempts.length > 2 ? 's' : ''})`],
      ['Exit code', run.exitCode === null ? '–' : String(run.exitCode)],
      ['Winning result', run.winner === null ? 'none' : shortHash(run.winner)],
      ['Started', fmtTime(run.startedAt)],
      ['Finished', fmtTime(run.finishedAt)],
    ]),
    h('h3', {}, 'Majority output'),
    delivered
      ? deliveredFiles(run, delivered, load)
      : h('p', { testid: 'job-detail-delivered' }, 'Nothing was delivered: no result reached a majority.'),
    ...run.attempts.map((a) => attemptTable(run, a)),
  ];
}
