import { describe, expect, it } from 'vitest';
import { jobProgressSchema, type JobProgress } from '../../../../common/bridge/jobs.js';
import { jobSchema, type JobConfig } from '../../../../common/config/cluster.js';
import { ArmoryError } from '../../../../common/errors/armory-error.js';
import type { Sequenced } from '../../../../common/node/append-log.js';
import type { JobRun } from '../../../../common/wire/jobs.js';
import { JobRuns, type JobsCore } from '../../../../main/bridge-host/job-runs.js';
import type { ManagerEventInput } from '../../../../main/core/events/manager-events.js';
import { jobRunFixture } from '../../../helpers/job-run-fixture.js';
import { waitFor } from '../../../helpers/wait.js';

const SPECS: Record<string, JobConfig> = {
  here: jobSchema.parse({ command: '/bin/true' }),
  spread: jobSchema.parse({ command: '/bin/true', on: 'nodes' }),
};

const keptRun = (job: string, id: string): JobRun => jobRunFixture(job, id);

/** A core whose runs end when the test says so. */
function fakeCore() {
  const pending = new Map<string, { resolve: (r: JobRun) => void; reject: (e: unknown) => void }>();
  const calls: { name: string; options: unknown }[] = [];
  const core: JobsCore = {
    spec: (name) => {
      const s = Object.hasOwn(SPECS, name) ? SPECS[name] : undefined;
      if (!s) throw new ArmoryError('JOB_E_UNKNOWN', `no job named "${name}"`);
      return s;
    },
    localRunner: (name, wanted) => {
      if (wanted === 'gone') throw new ArmoryError('MANAGER_E_UNKNOWN_NODE', 'no enrolled node named "gone"');
      return wanted ?? 'local';
    },
    run: (name, options) => {
      calls.push({ name, options });
      return new Promise((resolve, reject) => pending.set(name, { resolve, reject }));
    },
  };
  return { core, calls, end: (name: string) => pending.get(name) as { resolve: (r: JobRun) => void; reject: (e: unknown) => void } };
}

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof ArmoryError ? e.code : String(e);
  }
};

let seq = 0;
const event = (node: string, reason: string, detail: Record<string, unknown>, time = new Date().toISOString()): Sequenced<ManagerEventInput> => ({ seq: ++seq, time, node, agentSeq: seq, kind: 'job', reason, detail });

describe('JobRuns: jobs started from the GUI', () => {
  it('answers at once with a run id, then sends the result as a progress event; every event fits the contract', async () => {
    const { core, calls, end } = fakeCore();
    const sent: JobProgress[] = [];
    const runs = new JobRuns(core, (p) => sent.push(p));
    const { runId, message } = runs.start('here');
    expect(message).toMatch(/job here: started as 3 sandboxes on local/);
    expect(sent).toEqual([expect.objectContaining({ runId, job: 'here', state: 'running', runner: 'local', mode: 'local', resultId: null })]);
    expect(runs.runningOf('here')).toBe(runId);
    await waitFor('the core to be asked', () => calls.length === 1);
    expect(calls[0]).toEqual({ name: 'here', options: {} });
    end('here').resolve(keptRun('here', 'r-1'));
    await waitFor('the result', () => sent.length === 2);
    expect(sent[1]).toMatchObject({ runId, state: 'finished', resultId: 'r-1', summary: 'job here succeeded', result: { id: 'r-1' } });
    expect(runs.runningOf('here')).toBeNull();
    for (const p of sent) expect(jobProgressSchema.safeParse(p).success).toBe(true);
  });

  it('refuses an unknown job, an unknown node and a second run of a running job with their codes, sending nothing', () => {
    const { core } = fakeCore();
    const sent: JobProgress[] = [];
    const runs = new JobRuns(core, (p) => sent.push(p));
    expect(codeOf(() => runs.start('nope'))).toBe('JOB_E_UNKNOWN');
    expect(codeOf(() => runs.start('here', 'gone'))).toBe('MANAGER_E_UNKNOWN_NODE');
    expect(sent).toEqual([]);
    runs.start('here');
    expect(codeOf(() => runs.start('here'))).toBe('JOB_E_RUNNING');
    expect(sent.length).toBe(1);
  });

  it('lets at most maxRunning jobs run at once', () => {
    const { core } = fakeCore();
    const runs = new JobRuns(core, () => undefined, { maxRunning: 1 });
    runs.start('here');
    expect(codeOf(() => runs.start('spread'))).toBe('JOB_E_TOO_MANY_RUNS');
  });

  it('a run the core fails is sent as an error with its code; a plain failure as RPC_E_INTERNAL', async () => {
    const { core, end, calls } = fakeCore();
    const sent: JobProgress[] = [];
    const runs = new JobRuns(core, (p) => sent.push(p));
    runs.start('spread');
    runs.start('here');
    await waitFor('both runs to reach the core', () => calls.length === 2);
    end('spread').reject(new ArmoryError('JOB_E_NO_NODES', 'job spread runs on nodes, and none is enrolled'));
    end('here').reject(new TypeError('boom'));
    await waitFor('both errors', () => sent.filter((p) => p.state === 'error').length === 2);
    expect(sent.find((p) => p.job === 'spread' && p.state === 'error')).toMatchObject({ runner: 'manager', error: { code: 'JOB_E_NO_NODES' }, summary: expect.stringContaining('could not run') });
    expect(sent.find((p) => p.job === 'here' && p.state === 'error')?.error).toEqual({ code: 'RPC_E_INTERNAL', message: 'boom' });
    expect(runs.runningOf('spread')).toBeNull();
  });

  it('follows its run in the journal: the started entry names the kept id, each attempt entry updates it; other entries change nothing', () => {
    const { core } = fakeCore();
    const sent: JobProgress[] = [];
    const runs = new JobRuns(core, (p) => sent.push(p));
    const { runId } = runs.start('here');
    const long = new Date(Date.now() - 60_000).toISOString();
    runs.observe([
      event('other-node', 'job here: run x started', { job: 'here', run: 'x' }),
      event('local', 'job here: run old started', { job: 'here', run: 'old' }, long),
      event('local', 'job there: run y started', { job: 'there', run: 'y' }),
      { ...event('local', 'job here: run z started', { job: 'here', run: 'z' }), kind: 'manager' },
      event('local', 'not shaped', { job: 'here', run: 42 }),
      event('local', 'job here: attempt 1 before any start', { job: 'here', run: 'r-9', attempt: 1 }),
    ]);
    expect(sent.length).toBe(1);
    runs.observe([event('local', 'job here: run r-9 started (3 replicas, quorum 2)', { job: 'here', run: 'r-9' })]);
    expect(sent.at(-1)).toMatchObject({ runId, resultId: 'r-9', attempt: null, state: 'running' });
    runs.observe([
      event('local', 'job here: attempt 1: no majority', { job: 'here', run: 'r-9', attempt: 1, decided: false }),
      event('local', 'job here: attempt 2: 2 of 3 agree', { job: 'here', run: 'other', attempt: 2 }),
      event('local', 'job here: attempt 0?', { job: 'here', run: 'r-9', attempt: 0 }),
      event('local', 'job here: run r-10 started', { job: 'here', run: 'r-10' }),
    ]);
    expect(sent.length).toBe(3);
    expect(sent.at(-1)).toMatchObject({ runId, resultId: 'r-9', attempt: 1, summary: 'job here: attempt 1: no majority', state: 'running' });
    expect(runs.list()).toEqual([sent.at(-1)]);
  });

  it('does not take a run of the same job started a moment before (from the CLI) for its own', () => {
    const { core } = fakeCore();
    const sent: JobProgress[] = [];
    const runs = new JobRuns(core, (p) => sent.push(p));
    const { runId } = runs.start('spread');
    const startedAt = Date.parse(runs.list()[0]?.startedAt ?? '');
    for (const ago of [1, 100, 4999]) runs.observe([event('manager', 'job spread: run cli started', { job: 'spread', run: `cli-${ago}` }, new Date(startedAt - ago).toISOString())]);
    expect(sent.length).toBe(1);
    runs.observe([event('manager', 'job spread: run mine started', { job: 'spread', run: 'mine' }, new Date(startedAt).toISOString())]);
    expect(sent.at(-1)).toMatchObject({ runId, resultId: 'mine' });
  });

  it('a job on nodes is followed in the manager journal', () => {
    const { core } = fakeCore();
    const sent: JobProgress[] = [];
    const runs = new JobRuns(core, (p) => sent.push(p));
    runs.start('spread');
    runs.observe([event('local', 'job spread: run a started', { job: 'spread', run: 'a' }), event('manager', 'job spread: run b started', { job: 'spread', run: 'b' })]);
    expect(sent.at(-1)?.resultId).toBe('b');
  });

  it('remembers only the last keepEnded ended runs', async () => {
    const { core, end, calls } = fakeCore();
    const runs = new JobRuns(core, () => undefined, { keepEnded: 1 });
    for (let i = 1; i <= 3; i++) {
      runs.start('here');
      await waitFor('the core', () => calls.length === i);
      end('here').resolve(keptRun('here', `r-${i}`));
      await waitFor('the end', () => runs.runningOf('here') === null);
    }
    expect(runs.list().map((p) => p.resultId)).toEqual(['r-3']);
  });
});
