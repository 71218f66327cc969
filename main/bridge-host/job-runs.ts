import { randomBytes } from 'node:crypto';
import type { JobProgress } from '../../common/bridge/jobs.js';
import type { JobConfig } from '../../common/config/cluster.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { Sequenced } from '../../common/node/append-log.js';
import type { JobRun } from '../../common/wire/jobs.js';
import type { ManagerEventInput } from '../core/events/manager-events.js';

/** What the GUI's runs need of the manager's jobs (main/core/jobs/manager-jobs.ts). */
export interface JobsCore {
  spec(name: string): JobConfig;
  localRunner(name: string, wanted: string | undefined): string;
  run(name: string, options?: { node?: string }): Promise<JobRun>;
}

export interface JobRunsOptions {
  /** Runs the GUI lets go at once (each job at most once). */
  readonly maxRunning: number;
  /** Ended runs remembered for a page that opens later. */
  readonly keepEnded: number;
}

const DEFAULTS: JobRunsOptions = Object.freeze({ maxRunning: 8, keepEnded: 10 });

/**
 * Jobs started from the GUI. `start` checks the job and answers at once with a run id; the run goes on
 * in the core (main/core/jobs), and every change is sent as a `jobs.progress` event: the attempts voted
 * so far as the live feed gathers them from the journal (`observe`), then the kept result or the coded
 * error. The voting is the core's; this only follows it.
 */
export class JobRuns {
  private readonly runs = new Map<string, JobProgress>();
  private readonly options: JobRunsOptions;

  constructor(
    private readonly jobs: JobsCore,
    private readonly emit: (p: JobProgress) => void,
    options: Partial<JobRunsOptions> = {},
  ) {
    this.options = Object.freeze({ ...DEFAULTS, ...options });
  }

  private running(): JobProgress[] {
    return [...this.runs.values()].filter((r) => r.state === 'running');
  }

  /** The GUI run of a job in progress, if any. */
  runningOf(job: string): string | null {
    return this.running().find((r) => r.job === job)?.runId ?? null;
  }

  /** Runs in progress and the last few that ended, oldest first. */
  list(): JobProgress[] {
    return [...this.runs.values()].sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  }

  /** Starts a job; throws a coded error (unknown job, no node to run on, already running) before anything runs. */
  start(name: string, node?: string): { runId: string; message: string } {
    const spec = this.jobs.spec(name);
    const runner = spec.on === 'nodes' ? 'manager' : this.jobs.localRunner(name, node);
    const already = this.runningOf(name);
    if (already !== null) throw new ArmoryError('JOB_E_RUNNING', `job ${name} is already running (run ${already}); its result comes when it ends`, { job: name });
    if (this.running().length >= this.options.maxRunning) throw new ArmoryError('JOB_E_TOO_MANY_RUNS', `${this.options.maxRunning} jobs are running already; start ${name} when one has ended`, { job: name });
    const runId = `gui-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const where = spec.on === 'nodes' ? `on ${spec.replicas} nodes` : `as ${spec.replicas} sandboxes on ${runner}`;
    const progress: JobProgress = {
      runId,
      job: name,
      mode: spec.on,
      runner,
      state: 'running',
      startedAt: new Date().toISOString(),
      attempt: null,
      summary: `job ${name}: running ${where}, quorum ${spec.quorum}`,
      resultId: null,
      result: null,
      error: null,
    };
    this.put(progress);
    // Run on the next turn, so that a core that throws at once still reports through the events.
    Promise.resolve()
      .then(() => this.jobs.run(name, node !== undefined ? { node } : {}))
      .then(
      (run) => this.put({ ...this.current(runId), state: 'finished', attempt: run.attempts.length || null, summary: run.summary, resultId: run.id, result: run }),
      (e: unknown) => {
        const code = e instanceof ArmoryError ? e.code : 'RPC_E_INTERNAL';
        const message = (e as Error)?.message ?? String(e);
        this.put({ ...this.current(runId), state: 'error', summary: `job ${name} could not run: ${message}`, error: { code, message } });
      },
    );
    return { runId, message: `job ${name}: started ${where} (run ${runId})` };
  }

  /**
   * Follows the journal entries the live feed gathers: a run's "started" entry names the id its result
   * will be kept under, and each attempt's entry says how the vote went. Entries of other runs are ignored;
   * so is any entry dated before the GUI run started (a run of the same job started just before, from
   * the CLI, must not be taken for it; a node whose clock runs behind gets its id with the result).
   */
  observe(events: readonly Sequenced<ManagerEventInput>[]): void {
    for (const e of events) {
      const d = e.detail;
      if (e.kind !== 'job' || !d || typeof d.job !== 'string' || typeof d.run !== 'string') continue;
      const run = this.running().find((r) => r.job === d.job && r.runner === e.node && Date.parse(e.time) >= Date.parse(r.startedAt) && (r.resultId === null || r.resultId === d.run));
      if (!run) continue;
      if (run.resultId === null && d.attempt === undefined && d.outcome === undefined) {
        this.put({ ...run, resultId: d.run });
      } else if (run.resultId === d.run && typeof d.attempt === 'number' && Number.isInteger(d.attempt) && d.attempt >= 1) {
        this.put({ ...run, attempt: d.attempt, summary: e.reason });
      }
    }
  }

  private current(runId: string): JobProgress {
    return this.runs.get(runId) as JobProgress;
  }

  private put(p: JobProgress): void {
    this.runs.delete(p.runId);
    this.runs.set(p.runId, p);
    const ended = [...this.runs.values()].filter((r) => r.state !== 'running');
    for (const old of ended.slice(0, Math.max(0, ended.length - this.options.keepEnded))) this.runs.delete(old.runId);
    this.emit(p);
  }
}
