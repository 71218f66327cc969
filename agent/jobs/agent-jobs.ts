import { randomBytes } from 'node:crypto';
import fs, { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JobConfig } from '../../common/config/cluster.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { jobSpecSha256 } from '../../common/node/job-fingerprint.js';
import { JobResultStore } from '../../common/node/job-results.js';
import { JOB_STDOUT_RETURN_BYTES, JOB_TRANSFER_LIMIT, type JobReplicaAnswer, type JobRun } from '../../common/wire/jobs.js';
import type { ParamsOf } from '../../common/wire/agent-control.js';
import type { AgentEventInput } from '../../common/wire/service-status.js';
import { runLocalJob } from './local-job.js';
import { runReplica } from './replica-sandbox.js';

export interface AgentJobsOptions {
  /** The agent's state directory: replicas work in DIR/jobs/work, results are kept in DIR/jobs/results. */
  stateDir: string;
  instance: () => string;
  /** The jobs of the configuration the agent runs now. */
  jobs: () => Readonly<Record<string, JobConfig>>;
  journal: (e: AgentEventInput) => void;
}

/** Replicas one agent runs at once, over all jobs: a caller cannot make it fork without bound. */
export const MAX_ACTIVE_REPLICAS = 64;

/** Bytes of kept runs one job.results answer carries (the connection's bound is 1 MiB). */
const RESULTS_ANSWER_BYTES = 768 * 1024;

function readHead(file: string, max: number): { data: Buffer; truncated: boolean } {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(max + 1);
    const n = fs.readSync(fd, buf, 0, max + 1, 0);
    return { data: buf.subarray(0, Math.min(n, max)), truncated: n > max };
  } finally {
    fs.closeSync(fd);
  }
}

/** The agent's redundant jobs: local-mode runs, single replicas for the manager, and the kept results. */
export class AgentJobs {
  readonly store: JobResultStore;
  private readonly workRoot: string;
  private active = 0;
  private readonly stopping = new AbortController();

  constructor(private readonly options: AgentJobsOptions) {
    this.store = new JobResultStore(path.join(options.stateDir, 'jobs', 'results'));
    this.workRoot = path.join(options.stateDir, 'jobs', 'work');
  }

  spec(name: string): JobConfig {
    const jobs = this.options.jobs();
    const spec = Object.hasOwn(jobs, name) ? jobs[name] : undefined;
    if (!spec) throw new ArmoryError('JOB_E_UNKNOWN', `no job named "${name}" (known: ${Object.keys(jobs).join(', ') || 'none'})`, { job: name });
    return spec;
  }

  /** Holds `n` of the replica slots until the returned release is called. */
  private reserve(n: number, job: string): () => void {
    if (this.active + n > MAX_ACTIVE_REPLICAS) {
      throw new ArmoryError('JOB_E_BUSY', `job ${job}: ${this.active} replicas run already; at most ${MAX_ACTIVE_REPLICAS} at once on this node; try again later`, { job });
    }
    this.active += n;
    let released = false;
    return () => {
      if (!released) this.active -= n;
      released = true;
    };
  }

  /** Runs a local-mode job as sandboxes of this node. */
  async run(name: string): Promise<JobRun> {
    const spec = this.spec(name);
    if (spec.on !== 'local') throw new ArmoryError('JOB_E_MODE', `job ${name} runs its replicas on nodes: run it from the manager (armory job run ${name})`, { job: name });
    const release = this.reserve(spec.replicas, name);
    try {
      const ctx = { workRoot: this.workRoot, store: this.store, instance: this.options.instance(), runner: os.hostname(), journal: this.options.journal, abort: this.stopping.signal };
      return await runLocalJob(ctx, name, spec);
    } finally {
      release();
    }
  }

  /** Runs one replica of a nodes-mode job with the inputs the manager sent, and answers with its result and outputs. */
  async replica(p: ParamsOf<'job.replica'> & { inputs: { name: string; data: string }[] }): Promise<JobReplicaAnswer> {
    const spec = this.spec(p.job);
    if (spec.on !== 'nodes') throw new ArmoryError('JOB_E_MODE', `job ${p.job} runs as local sandboxes, not one replica per node`, { job: p.job });
    const mine = jobSpecSha256(spec);
    if (mine !== p.specSha256) {
      throw new ArmoryError('JOB_E_SPEC_MISMATCH', `this node's configuration has another version of job ${p.job} than the manager's: apply the configuration again`, { job: p.job });
    }
    const want = spec.inputs.map((f) => path.basename(f)).sort();
    const got = p.inputs.map((i) => i.name).sort();
    if (want.join('\0') !== got.join('\0') || (spec.stdin !== undefined) !== (p.stdin !== undefined)) {
      throw new ArmoryError('JOB_E_BAD_REQUEST', `job ${p.job} takes inputs [${want.join(', ')}]${spec.stdin !== undefined ? ' and stdin' : ''}; the request sent [${got.join(', ')}]${p.stdin !== undefined ? ' and stdin' : ''}`, { job: p.job });
    }
    const dir = path.join(this.workRoot, p.job, `replica-${p.replica}-${randomBytes(4).toString('hex')}`);
    const release = this.reserve(1, p.job);
    try {
      const run = await runReplica({
        job: p.job,
        replica: p.replica,
        attempt: p.attempt,
        command: spec.command,
        args: spec.args,
        outputs: spec.outputs,
        timeoutMs: spec.timeout,
        inputs: p.inputs.map((i) => ({ name: i.name, data: Buffer.from(i.data, 'base64') })),
        stdin: p.stdin !== undefined ? { data: Buffer.from(p.stdin, 'base64') } : null,
        dir,
        instance: this.options.instance(),
        abort: this.stopping.signal,
      });
      const r = run.result;
      this.options.journal({
        kind: 'job',
        reason: `job ${p.job}: replica ${p.replica} (attempt ${p.attempt}) for the manager: ${r.status}, ${r.reason}`,
        detail: { job: p.job, replica: p.replica, attempt: p.attempt, status: r.status, fingerprint: r.fingerprint },
      });
      const head = readHead(run.stdoutFile, JOB_STDOUT_RETURN_BYTES);
      const present = r.outputs.filter((o) => o.sha256 !== null);
      const total = present.reduce((n, o) => n + (o.bytes ?? 0), 0);
      const outputs =
        total <= JOB_TRANSFER_LIMIT
          ? await Promise.all(present.map(async (o) => ({ path: o.path, data: (await fsp.readFile(path.join(run.workDir, o.path))).toString('base64') })))
          : null;
      return { result: r, stdout: head.data.toString('base64'), stdoutTruncated: head.truncated, outputs };
    } finally {
      release();
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }

  /** The kept runs of a job, newest first, as many as fit in one answer. */
  results(name: string, limit: number): { runs: JobRun[] } {
    const runs: JobRun[] = [];
    let bytes = 0;
    const kept = this.store.list(name, limit);
    if (kept.length === 0) this.spec(name);
    for (const run of kept) {
      bytes += JSON.stringify(run).length;
      if (bytes > RESULTS_ANSWER_BYTES && runs.length > 0) break;
      runs.push(run);
    }
    return { runs };
  }

  /** Kills every running replica (the agent shuts down); their runs end as failed. */
  stopAll(): void {
    this.stopping.abort();
  }

  /** Replicas interrupted by an agent restart leave their folders: clear them. */
  clearWork(): void {
    fs.rmSync(this.workRoot, { recursive: true, force: true });
  }
}
