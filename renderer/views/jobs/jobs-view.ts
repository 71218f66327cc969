import './jobs.css';
import type { JobProgress, JobView } from '../../../common/bridge/jobs.js';
import type { JobRun } from '../../../common/wire/jobs.js';
import { button, clear, emptyState, fmtTime, h } from '../../components/dom.js';
import { errorText, type View, type ViewContext } from '../../view.js';
import { jobResultPanel } from './job-result-panel.js';
import { badge, dissenters, fmtDuration, outcomeLabel, progressLabel, replicaName, verdictLabel } from './job-verdicts.js';

const RESULTS_SHOWN = 30;

function runsAs(j: JobView): string {
  return j.mode === 'local' ? `${j.replicas} local sandboxes` : `${j.replicas} nodes${j.nodes.length > 0 ? ` (${j.nodes.join(', ')})` : ''}`;
}

/**
 * Redundant jobs: the configured jobs with a Run button (after a confirmation), the runs started here
 * live as their attempts are voted, the kept results with each replica's verdict, and one result in
 * detail. Opens on `jobs`, or on `jobs/JOB/RUN` with that result shown.
 */
export function jobsView(ctx: ViewContext, openJob?: string, openRun?: string): View {
  const title = h('h1', { id: 'jobs-title', tabindex: -1 }, 'Redundant jobs');
  const note = h('p', { role: 'status', class: 'note', testid: 'jobs-note' });
  const jobsBody = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
  const live = h('ul', { class: 'job-live', testid: 'jobs-live', 'aria-live': 'polite' });
  const resultsBody = h('div', {});
  const detailTitle = h('h2', { id: 'job-detail-title', tabindex: -1 }, 'Result');
  const detailBody = h('div', {});
  /** Where the focus goes back to when the result is closed: the button that opened it (by test id: the tables are repainted). */
  let opener: string | null = null;
  const close = () => {
    detail.hidden = true;
    const back = opener === null ? null : el.querySelector<HTMLElement>(`[data-testid="${CSS.escape(opener)}"]`);
    (back ?? title).focus();
    opener = null;
  };
  const detail = h('section', { class: 'job-detail', testid: 'job-detail', 'aria-labelledby': 'job-detail-title', hidden: true }, detailTitle, detailBody, button('Close', 'job-detail-close', close));
  const el = h(
    'section',
    { class: 'view', testid: 'view-jobs', 'aria-labelledby': 'jobs-title' },
    title,
    h('p', {}, 'A job runs its command as several replicas fed the same input; their exit codes, stdout and output files are compared, and the result most of them agree on wins. A replica that disagrees, crashes or runs too long is named.'),
    note,
    jobsBody,
    h('h2', {}, 'Runs from the GUI'),
    live,
    h('h2', {}, 'Kept results'),
    resultsBody,
    detail,
  );

  let jobs: JobView[] = [];
  const progress = new Map<string, JobProgress>();
  /** Runs started from this screen: their result opens when they end. */
  const mine = new Set<string>();

  const showResult = (job: string, id: string, options: { focus: boolean }) =>
    ctx.bridge.jobs.result({ job, id }).then(
      (run: JobRun) => {
        clear(detailTitle, `Result of ${run.job}, run ${run.id}`);
        clear(detailBody, ...jobResultPanel(run, (file) => ctx.bridge.jobs.output({ job: run.job, id: run.id, file })));
        detail.hidden = false;
        if (options.focus) {
          const from = document.activeElement instanceof HTMLElement ? document.activeElement : null;
          if (from && !detail.contains(from)) opener = from.dataset.testid ?? null;
          detailTitle.focus();
        }
      },
      (e: unknown) => (note.textContent = errorText(e)),
    );

  const run = async (j: JobView, b: HTMLButtonElement) => {
    const what = `${j.command}${j.args.length > 0 ? ` ${j.args.join(' ')}` : ''}`;
    if (!window.confirm(`Run job ${j.name}? It runs "${what.slice(0, 200)}" as ${runsAs(j)} and needs ${j.quorum} matching results.`)) return;
    b.disabled = true;
    try {
      const started = await ctx.bridge.jobs.run({ name: j.name });
      mine.add(started.runId);
      note.textContent = started.message;
    } catch (e) {
      note.textContent = errorText(e);
      b.disabled = false;
    }
  };

  const paintJobs = () =>
    clear(
      jobsBody,
      jobs.length === 0
        ? emptyState('jobs-empty', 'No job configured. A job is a batch command run as several replicas whose results are voted on: add one under "jobs:" in the configuration (command, args, replicas, quorum, outputs).', button('Open the configuration', 'jobs-go-config', () => ctx.navigate('config')))
        : h(
            'table',
            { class: 'grid', testid: 'jobs-table' },
            h('caption', {}, 'Configured jobs'),
            h('thead', {}, h('tr', {}, ...['Job', 'Command', 'Runs as', 'Quorum', 'Timeout', 'Re-runs allowed', 'Last result', 'Action'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              jobs.map((j) => {
                const running = j.running !== null || [...progress.values()].some((p) => p.job === j.name && p.state === 'running');
                const b = button('Run', `job-run-${j.name}`, (e) => void run(j, e.currentTarget as HTMLButtonElement), { 'aria-label': `Run job ${j.name}`, disabled: running });
                return h(
                  'tr',
                  { testid: `job-row-${j.name}` },
                  h('th', { scope: 'row' }, j.name),
                  h('td', { class: 'reason' }, h('code', { title: `${j.command} ${j.args.join(' ')}` }, `${j.command} ${j.args.join(' ')}`)),
                  h('td', {}, runsAs(j)),
                  h('td', {}, `${j.quorum} of ${j.replicas}`),
                  h('td', {}, fmtDuration(j.timeoutMs)),
                  h('td', {}, String(j.retries)),
                  h('td', { testid: `job-last-${j.name}` }, running ? badge({ text: 'running', tone: 'warn' }) : j.last ? badge(outcomeLabel(j.last.outcome)) : 'never run'),
                  h('td', {}, b),
                );
              }),
            ),
          ),
    );

  const paintLive = () => {
    const list = [...progress.values()].sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
    clear(
      live,
      list.length === 0
        ? h('li', { class: 'loading' }, 'None yet: press Run on a job.')
        : list.map((p) =>
            h(
              'li',
              { testid: `job-live-${p.job}`, 'data-state': p.state, 'data-run': p.runId },
              badge(progressLabel(p)),
              ' ',
              h('strong', {}, p.job),
              ` · ${fmtTime(p.startedAt)} · `,
              h('span', { testid: `job-live-summary-${p.job}` }, p.error ? `${p.error.message} [${p.error.code}]` : p.summary),
              p.result ? [' ', button('Details', `job-live-open-${p.job}`, () => void showResult(p.job, (p.result as JobRun).id, { focus: true }), { 'aria-label': `Details of the run of ${p.job} started ${fmtTime(p.startedAt)}` })] : null,
            ),
          ),
    );
  };

  const paintResults = (runs: JobRun[]) =>
    clear(
      resultsBody,
      runs.length === 0
        ? emptyState('jobs-results-empty', 'No result kept yet. Run a job: its result is kept with every replica\'s verdict.')
        : h(
            'table',
            { class: 'grid', testid: 'jobs-results' },
            h('caption', {}, `The ${Math.min(runs.length, RESULTS_SHOWN)} newest results`),
            h('thead', {}, h('tr', {}, ...['Started', 'Job', 'Outcome', 'Vote', 'Attempts', 'Replicas', ''].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              runs.map((r) =>
                h(
                  'tr',
                  { testid: `job-result-${r.id}`, 'data-job': r.job, 'data-outcome': r.outcome },
                  h('td', {}, fmtTime(r.startedAt)),
                  h('th', { scope: 'row' }, r.job),
                  h('td', {}, badge(outcomeLabel(r.outcome))),
                  h('td', {}, `${r.attempts.at(-1)?.votes ?? 0} of ${r.replicas} (quorum ${r.quorum})`),
                  h('td', {}, String(r.attempts.length)),
                  h(
                    'td',
                    { testid: `job-result-verdicts-${r.id}` },
                    dissenters(r).length === 0
                      ? badge({ text: `all ${r.replicas} agreed`, tone: 'ok' })
                      : h('ul', { class: 'plain' }, dissenters(r).map((x) => h('li', {}, badge(verdictLabel(x.verdict)), ` ${replicaName(x)}`))),
                  ),
                  h('td', {}, button('Details', `job-result-open-${r.id}`, () => void showResult(r.job, r.id, { focus: true }), { 'aria-label': `Details of ${r.job} run ${r.id}` })),
                ),
              ),
            ),
          ),
    );

  const loadJobs = () =>
    ctx.bridge.jobs.list().then(
      (list) => ((jobs = list), paintJobs()),
      (e: unknown) => clear(jobsBody, h('p', { class: 'error' }, errorText(e))),
    );
  const loadResults = () =>
    ctx.bridge.jobs.results({ limit: RESULTS_SHOWN }).then(paintResults, (e: unknown) => clear(resultsBody, h('p', { class: 'error' }, errorText(e))));

  const onProgress = (p: JobProgress) => {
    progress.set(p.runId, p);
    paintLive();
    if (p.state === 'running') return paintJobs();
    void loadJobs();
    void loadResults();
    if (mine.has(p.runId)) {
      mine.delete(p.runId);
      note.textContent = p.summary;
      if (p.result) void showResult(p.job, p.result.id, { focus: false });
    }
  };
  const sub = ctx.bridge.jobs.onProgress(onProgress);
  const applied = ctx.bridge.config.onApplied(() => void loadJobs());
  void ctx.bridge.jobs.active().then((list) => {
    for (const p of list) if (!progress.has(p.runId)) progress.set(p.runId, p);
    paintLive();
  }, (e: unknown) => (note.textContent = errorText(e)));
  paintLive();
  void loadJobs();
  void loadResults();
  if (openJob !== undefined && openRun !== undefined) void showResult(openJob, openRun, { focus: true });
  return {
    el,
    dispose: () => {
      sub.dispose();
      applied.dispose();
    },
  };
}
