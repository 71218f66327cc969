import type { BridgeDomains } from '../../../common/bridge/contract.js';
import type { JobView } from '../../../common/bridge/jobs.js';
import type { JobConfig } from '../../../common/config/cluster.js';
import type { JobRun } from '../../../common/wire/jobs.js';
import type { DomainHandlers } from '../bridge-host.js';
import type { HostContext } from '../host-context.js';
import type { JobRuns } from '../job-runs.js';
import { currentConfig } from './config-handlers.js';

/** Bytes of a delivered file the GUI shows. */
export const OUTPUT_PREVIEW_BYTES = 16 * 1024;

/** A configured job as the GUI lists it. */
export function jobView(name: string, spec: JobConfig, last: JobRun | undefined, running: string | null): JobView {
  return {
    name,
    command: spec.command,
    args: spec.args,
    mode: spec.on,
    replicas: spec.replicas,
    quorum: spec.quorum,
    nodes: spec.nodes,
    timeoutMs: spec.timeout,
    retries: spec.retries,
    inputs: spec.inputs,
    outputs: spec.outputs,
    stdin: spec.stdin ?? null,
    running,
    last: last ? { id: last.id, outcome: last.outcome, finishedAt: last.finishedAt, summary: last.summary } : null,
  };
}

/** Redundant jobs for the GUI: the configured jobs, runs started here (followed by `runs`), kept results. */
export function jobsHandlers(ctx: HostContext, runs: JobRuns): DomainHandlers<BridgeDomains['jobs']> {
  const jobs = ctx.manager.jobs;
  return {
    list: async () => {
      const { config } = currentConfig(ctx.manager);
      return Object.entries(config.jobs)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, spec]) => jobView(name, spec, jobs.store.list(name, 1)[0], runs.runningOf(name)));
    },
    run: async ({ name, node }) => runs.start(name, node),
    active: async () => runs.list(),
    results: async ({ job, limit }) => (job !== undefined ? jobs.results(job, limit) : jobs.recent(limit)),
    result: async ({ job, id }) => jobs.result(job, id),
    output: ({ job, id, file }) => jobs.delivered(job, id, file, OUTPUT_PREVIEW_BYTES),
  };
}
