import fs from 'node:fs';
import path from 'node:path';
import type { JobConfig } from '../../../common/config/cluster.js';
import type { ArmoryConfig } from '../../../common/config/document.js';
import { parseConfigText } from '../../../common/config/load.js';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { dissentersOf, jobRunRecord, runVotedAttempts, type JobAttempt } from '../../../common/jobs/attempts.js';
import { jobSpecSha256 } from '../../../common/node/job-fingerprint.js';
import { withTimeout } from '../../../common/node/with-timeout.js';
import { JobResultStore, newRunId, type Delivery } from '../../../common/node/job-results.js';
import { jobRunSchema, type JobRun } from '../../../common/wire/jobs.js';
import { LOCAL_NODE } from '../../../common/config/placement.js';
import type { Manager } from '../manager.js';
import { readJobPayload } from './job-inputs.js';
import { REPLICA_ANSWER_GRACE_MS, runReplicaOnNode, verifiedOutputs, type NodeReplica } from './node-replica.js';

/** How long the manager waits for a node to say hello before it counts it as unreachable. */
const PROBE_TIMEOUT_MS = 3000;

/**
 * Redundant jobs from the manager: a nodes-mode job runs one replica on each of N enrolled nodes
 * (identical input sent with each request), is voted with the same k-of-n voter as on an agent,
 * re-run per its retries, and kept in the manager home; a local-mode job is handed to one node's
 * agent, which runs its sandboxes. Either way the result is kept and journaled here.
 */
export class ManagerJobs {
  readonly store: JobResultStore;
  /** How long past a job's timeout a node may take to answer before its replica counts as timed out. */
  answerGraceMs = REPLICA_ANSWER_GRACE_MS;

  constructor(private readonly manager: Manager) {
    this.store = new JobResultStore(path.join(manager.home.root, 'jobs'));
  }

  private event(reason: string, detail: Record<string, unknown>): void {
    this.manager.events.append({ time: new Date().toISOString(), node: 'manager', agentSeq: 0, kind: 'job', reason, detail });
  }

  /** The configuration the manager applied last. */
  private config(): ArmoryConfig {
    const v = this.manager.inventory.data.configVersions.at(-1);
    if (!v) throw new ArmoryError('JOB_E_UNKNOWN', 'no configuration has been applied yet (armory apply FILE)');
    const parsed = parseConfigText(fs.readFileSync(v.file, 'utf8'));
    if (!parsed.ok) throw new ArmoryError('CONFIG_E_INVALID', `the applied configuration v${v.version} no longer validates`);
    return parsed.config;
  }

  spec(name: string): JobConfig {
    const jobs = this.config().jobs;
    const spec = Object.hasOwn(jobs, name) ? jobs[name] : undefined;
    if (!spec) throw new ArmoryError('JOB_E_UNKNOWN', `no job named "${name}" in the applied configuration (known: ${Object.keys(jobs).join(', ') || 'none'})`, { job: name });
    return spec;
  }

  /** Runs a job: on N nodes (nodes mode), or as sandboxes on one node (local mode; that node, or the local node). */
  async run(name: string, options: { node?: string } = {}): Promise<JobRun> {
    const spec = this.spec(name);
    return spec.on === 'nodes' ? this.runOnNodes(name, spec) : this.runOnOneNode(name, spec, options.node);
  }

  /** The node whose sandboxes run a local-mode job: the one asked for, else the local node, else the only enrolled one. */
  localRunner(name: string, wanted: string | undefined): string {
    const enrolled = Object.keys(this.manager.inventory.data.nodes);
    const node = wanted ?? (enrolled.includes(LOCAL_NODE) ? LOCAL_NODE : enrolled.length === 1 ? enrolled[0] : undefined);
    if (node === undefined) throw new ArmoryError('JOB_E_NO_NODES', `job ${name} runs as local sandboxes: say on which node (--node NAME; enrolled: ${enrolled.join(', ') || 'none'})`, { job: name });
    this.manager.node(node);
    return node;
  }

  private async runOnOneNode(name: string, spec: JobConfig, wanted: string | undefined): Promise<JobRun> {
    const node = this.localRunner(name, wanted);
    const client = await this.manager.connect(node);
    try {
      // The agent answers when the job is done: every attempt within the job's timeout, and some grace per attempt.
      const waitMs = (spec.retries + 1) * (spec.timeout + this.answerGraceMs);
      const answer = await withTimeout(client.call('job.run', { name }), waitMs).catch((e: unknown) => {
        const err = e as ArmoryError;
        throw err.code === 'AGENT_E_UNREACHABLE' && err.context.timeoutMs !== undefined ? new ArmoryError('AGENT_E_UNREACHABLE', `node ${node} gave no answer for job ${name} within ${waitMs} ms`, { job: name }) : err;
      });
      const parsed = jobRunSchema.safeParse(answer);
      if (!parsed.success) throw new ArmoryError('WIRE_E_MALFORMED', `node ${node} answered job.run with a malformed result`);
      const run = { ...parsed.data, runner: node };
      await this.store.save(run);
      this.event(run.summary, { job: name, run: run.id, outcome: run.outcome, on: node });
      await this.manager.events.flush();
      return run;
    } finally {
      client.close();
    }
  }

  /** The candidate nodes in order of preference, and which of them answer now. */
  private async pickNodes(name: string, spec: JobConfig): Promise<{ chosen: string[]; unreachable: { node: string; why: string }[] }> {
    const enrolled = this.manager.inventory.data.nodes;
    const candidates = spec.nodes.length > 0 ? spec.nodes : Object.keys(enrolled).sort();
    if (candidates.length === 0) throw new ArmoryError('JOB_E_NO_NODES', `job ${name} runs on nodes, and none is enrolled (armory node add)`, { job: name });
    const probes = await Promise.all(
      candidates.map(async (node) => {
        if (!Object.hasOwn(enrolled, node)) return { node, why: 'not enrolled' };
        try {
          const c = await this.manager.connect(node, PROBE_TIMEOUT_MS);
          c.close();
          return { node, why: null };
        } catch (e) {
          return { node, why: (e as Error).message };
        }
      }),
    );
    const chosen = probes.filter((p) => p.why === null).map((p) => p.node).slice(0, spec.replicas);
    return { chosen, unreachable: probes.filter((p): p is { node: string; why: string } => p.why !== null) };
  }

  private async runOnNodes(name: string, spec: JobConfig): Promise<JobRun> {
    const payload = readJobPayload(name, spec);
    const specSha256 = jobSpecSha256(spec);
    const id = newRunId();
    const startedAt = new Date().toISOString();
    const answers = new Map<number, NodeReplica>();
    this.event(`job ${name}: run ${id} started (${spec.replicas} replicas on nodes, quorum ${spec.quorum})`, { job: name, run: id });
    const voted = await runVotedAttempts(
      spec,
      async (attempt) => {
        answers.clear();
        const { chosen, unreachable } = await this.pickNodes(name, spec);
        const missing = unreachable.map((u) => `${u.node}: ${u.why}`).join('; ');
        const replicas = await Promise.all(
          Array.from({ length: spec.replicas }, (_, i) => {
            const node = chosen[i];
            if (node === undefined) {
              const reason = `no reachable node left for it (${chosen.length} of ${spec.replicas} answer${missing ? `; ${missing}` : ''})`;
              return Promise.resolve<NodeReplica>({
                result: { replica: i + 1, status: 'failed-to-start', reason, exitCode: null, signal: null, durationMs: 0, stdoutSha256: null, stdoutBytes: 0, outputs: [], fingerprint: null, stderrTail: '' },
                answer: null,
              });
            }
            return runReplicaOnNode((n) => this.manager.connect(n), { job: name, specSha256, replica: i + 1, attempt, node, timeoutMs: spec.timeout, graceMs: this.answerGraceMs, outputs: spec.outputs, payload });
          }),
        );
        for (const r of replicas) answers.set(r.result.replica, r);
        return replicas.map((r) => r.result);
      },
      (a) => this.event(`job ${name}: attempt ${a.attempt}: ${a.summary}`, { job: name, run: id, attempt: a.attempt, decided: a.decided, dissenters: dissentersOf(a) }),
    );
    let delivered: JobRun['delivered'] = null;
    let failure: { code: string; message: string } | null = null;
    if (voted.vote.winner !== null) {
      // Any agreeing replica whose files match the hashes voted on will do.
      const agreeing = [...answers.values()].filter((r) => r.result.fingerprint === voted.vote.winner);
      const source = agreeing.map((r) => ({ r, files: verifiedOutputs(r) })).find((x) => x.files !== null);
      if (source) {
        const files: Delivery[] = (source.files ?? []).map((f) => ({ path: `outputs/${f.path}`, data: f.data }));
        files.push({ path: 'stdout', data: Buffer.from(source.r.answer?.stdout ?? '', 'base64') });
        delivered = { dir: this.store.runDir(name, id), files: await this.store.deliver(name, id, files) };
      } else {
        failure = { code: 'JOB_E_OUTPUT_TOO_LARGE', message: 'the replicas agree, but no node could send the winning output files back (more than 512 KiB, or not matching their hashes)' };
      }
    }
    const run = jobRunRecord({ id, job: name, mode: 'nodes', runner: 'manager', startedAt, delivered }, spec, voted, failure);
    await this.store.save(run);
    this.event(run.summary, { job: name, run: id, outcome: run.outcome, ...(delivered ? { delivered: delivered.dir } : {}), dissenters: dissentersOf(voted.attempts.at(-1) as JobAttempt) });
    await this.manager.events.flush();
    return run;
  }

  /** The kept runs of a job, newest first. */
  results(name: string, limit = 10): JobRun[] {
    const runs = this.store.list(name, limit);
    if (runs.length === 0) this.spec(name);
    return runs;
  }

  /** One kept run of a job, by its id. */
  result(name: string, id: string): JobRun {
    const run = this.store.read(name, id);
    if (!run) throw new ArmoryError('JOB_E_NO_SUCH_RUN', `job ${name} has no kept run ${id} (runs are kept until ${name} has 50 newer ones)`, { job: name, run: id });
    return run;
  }

  /**
   * Where a kept run's delivered files are on this machine: the manager's own results folder for a
   * run it voted, the local node's (its agent keeps results in STATE/jobs/results, agent/jobs/agent-jobs.ts)
   * for a local job run there; null for a run kept on another node. The folder the record names is
   * not trusted: a record is only data.
   */
  private runFolder(run: JobRun): string | null {
    if (run.runner === 'manager') return this.store.runDir(run.job, run.id);
    if (run.runner === LOCAL_NODE) return new JobResultStore(path.join(this.manager.home.localAgentDir, 'jobs', 'results')).runDir(run.job, run.id);
    return null;
  }

  /**
   * The start of one delivered file of a kept run (its stdout, an output), to show it: only where the
   * file is on this machine — a run the manager voted, or one of the local node's sandboxes — and
   * only inside that run's folder, resolved with every link on the way (a link out is refused).
   */
  async delivered(name: string, id: string, file: string, maxBytes: number): Promise<{ text: string; bytes: number; truncated: boolean }> {
    const outside = () => new ArmoryError('JOB_E_BAD_REQUEST', `${file} is not a place in the results folder`, { job: name, run: id });
    if (path.isAbsolute(file) || file.split(/[\\/]/).some((part) => part === '..' || part === '.' || part === '') || file.includes('\0')) throw outside();
    const run = this.result(name, id);
    if (!run.delivered || !run.delivered.files.includes(file)) throw new ArmoryError('JOB_E_BAD_REQUEST', `run ${id} of job ${name} delivered no file ${file}`, { job: name, run: id });
    const folder = this.runFolder(run);
    if (folder === null) throw new ArmoryError('JOB_E_OUTPUT_ELSEWHERE', `run ${id} of job ${name} keeps its outputs on node ${run.runner}, in ${run.delivered.dir}`, { job: name, run: id });
    const where = path.join(folder, file);
    let handle: fs.promises.FileHandle | null = null;
    try {
      // Every component resolved: the file must still be inside the run's own folder.
      const [base, target] = await Promise.all([fs.promises.realpath(folder), fs.promises.realpath(where)]);
      if (!target.startsWith(`${base}${path.sep}`)) throw new Error('it leads out of the run\'s folder');
      handle = await fs.promises.open(target, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      const stat = await handle.stat();
      if (!stat.isFile()) throw new Error('not a regular file');
      const buf = Buffer.alloc(Math.min(maxBytes, stat.size));
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      return { text: buf.subarray(0, bytesRead).toString('utf8'), bytes: stat.size, truncated: stat.size > bytesRead };
    } catch (e) {
      throw new ArmoryError('JOB_E_OUTPUT_ELSEWHERE', `${where} cannot be read here: ${(e as Error).message}`, { job: name, run: id });
    } finally {
      await handle?.close();
    }
  }

  /** The newest kept runs of every job (also of jobs no longer configured), newest first. */
  recent(limit = 20): JobRun[] {
    return this.store
      .jobs()
      .flatMap((job) => this.store.list(job, limit))
      .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))
      .slice(0, limit);
  }
}
