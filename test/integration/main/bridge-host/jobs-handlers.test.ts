import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridgeOverRpc } from '../../../../common/bridge/bridge-proxy.js';
import type { ArmoryBridge } from '../../../../common/bridge/contract.js';
import type { JobProgress } from '../../../../common/bridge/jobs.js';
import { memoryPortPair } from '../../../../common/rpc/port.js';
import { RpcClient, type RpcCallError } from '../../../../common/rpc/rpc-client.js';
import type { JobRun } from '../../../../common/wire/jobs.js';
import { BridgeHost } from '../../../../main/bridge-host/bridge-host.js';
import { jobsHandlers, OUTPUT_PREVIEW_BYTES } from '../../../../main/bridge-host/handlers/jobs-handlers.js';
import type { HostContext } from '../../../../main/bridge-host/host-context.js';
import { JobRuns } from '../../../../main/bridge-host/job-runs.js';
import { Manager } from '../../../../main/core/manager.js';
import { stubHandlers } from '../../../helpers/bridge-stubs.js';
import { jobRunFixture } from '../../../helpers/job-run-fixture.js';
import { waitFor } from '../../../helpers/wait.js';

let home: string;
let manager: Manager;
let host: BridgeHost;
let bridge: ArmoryBridge;

const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: RpcCallError) => e.code);

const kept = (job: string, id: string, over: Partial<JobRun> = {}): JobRun =>
  jobRunFixture(job, id, {
    mode: 'nodes',
    runner: 'manager',
    winner: 'a'.repeat(64),
    attempts: [
      {
        attempt: 1,
        decided: true,
        votes: 2,
        summary: '2 of 3 agree (quorum 2); replica 3 on h3 dissented',
        replicas: [1, 2, 3].map((r) => ({
          replica: r,
          node: `h${r}`,
          status: 'exited' as const,
          reason: r === 3 ? 'exit code 0; result bbbb differs' : 'exit code 0',
          exitCode: 0,
          signal: null,
          durationMs: 10,
          stdoutSha256: (r === 3 ? 'b' : 'a').repeat(64),
          stdoutBytes: 3,
          outputs: [],
          fingerprint: (r === 3 ? 'b' : 'a').repeat(64),
          stderrTail: '',
          verdict: r === 3 ? ('dissented' as const) : ('agreed' as const),
        })),
      },
    ],
    summary: `job ${job} succeeded: 2 of 3 agree`,
    ...over,
  });

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-jobs-bridge-'));
  manager = new Manager({ ARMORY_HOME: home });
  await manager.open();
  const ctx = { manager, emit: (d: never, e: never, data: never) => host.emit(d, e, data) } as unknown as HostContext;
  const runs = new JobRuns(manager.jobs, (p) => host.emit('jobs', 'progress', p));
  host = new BridgeHost(stubHandlers({ jobs: jobsHandlers(ctx, runs) }));
  const [a, b] = memoryPortPair({ a: 'trusted' });
  host.attach(b, (o) => (o === 'trusted' ? null : 'not the app'));
  bridge = bridgeOverRpc(new RpcClient(a, { timeoutMs: 5000 }));
}, 30_000);

afterAll(() => {
  host?.close();
  manager?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

describe('the jobs domain over the bridge, on a real manager', () => {
  it('lists nothing before a configuration is applied, then the configured jobs', async () => {
    expect(await bridge.jobs.list()).toEqual([]);
    expect(await codeOf(bridge.jobs.run({ name: 'here' }))).toBe('JOB_E_UNKNOWN');
    await manager.apply('jobs:\n  here:\n    command: /bin/echo\n    args: [hi]\n    timeout: 5s\n  spread:\n    on: nodes\n    command: /bin/true\n    replicas: 2\n    quorum: 2\n    outputs: [out.txt]\n');
    const jobs = await bridge.jobs.list();
    expect(jobs.map((j) => [j.name, j.mode, j.replicas, j.quorum, j.timeoutMs, j.running, j.last])).toEqual([
      ['here', 'local', 3, 2, 5000, null, null],
      ['spread', 'nodes', 2, 2, 600_000, null, null],
    ]);
    expect(jobs[1]?.outputs).toEqual(['out.txt']);
  });

  it('answers bad arguments with RPC_E_BAD_PARAMS and unknown jobs, runs and nodes with their codes', async () => {
    expect(await codeOf(bridge.jobs.run({ name: '../etc/passwd' }))).toBe('RPC_E_BAD_PARAMS');
    expect(await codeOf(bridge.jobs.run({ name: 'here', extra: 1 } as never))).toBe('RPC_E_BAD_PARAMS');
    expect(await codeOf(bridge.jobs.result({ job: 'here', id: '../../x' }))).toBe('RPC_E_BAD_PARAMS');
    expect(await codeOf(bridge.jobs.results({ limit: 10_000 }))).toBe('RPC_E_BAD_PARAMS');
    expect(await codeOf(bridge.jobs.output({ job: 'here', id: 'r', file: 7 } as never))).toBe('RPC_E_BAD_PARAMS');
    expect(await codeOf(bridge.jobs.run({ name: 'nope' }))).toBe('JOB_E_UNKNOWN');
    expect(await codeOf(bridge.jobs.results({ job: 'nope' }))).toBe('JOB_E_UNKNOWN');
    expect(await codeOf(bridge.jobs.result({ job: 'here', id: 'no-such-run' }))).toBe('JOB_E_NO_SUCH_RUN');
    // A local job needs a node whose sandboxes run it: none is enrolled here.
    expect(await codeOf(bridge.jobs.run({ name: 'here' }))).toBe('JOB_E_NO_NODES');
    expect(await codeOf(bridge.jobs.run({ name: 'here', node: 'h9' }))).toBe('MANAGER_E_UNKNOWN_NODE');
    expect(await bridge.jobs.active()).toEqual([]);
  });

  it('a run that cannot go on answers with its id at once; its failure arrives as a coded progress event', async () => {
    const seen: JobProgress[] = [];
    const sub = bridge.jobs.onProgress((p) => seen.push(p));
    // The subscription goes out before the run, on the same ordered port.
    const { runId } = await bridge.jobs.run({ name: 'spread' });
    expect(runId).toMatch(/^gui-/);
    await waitFor('the error event', () => seen.some((p) => p.runId === runId && p.state === 'error'));
    expect(seen.find((p) => p.state === 'error')?.error?.code).toBe('JOB_E_NO_NODES');
    expect((await bridge.jobs.active()).map((p) => [p.runId, p.state])).toEqual([[runId, 'error']]);
    expect((await bridge.jobs.list()).find((j) => j.name === 'spread')?.running).toBeNull();
    sub.dispose();
  });

  it('gives the kept results of one job or of all, one result, and the start of a file it delivered', async () => {
    const store = manager.jobs.store;
    const files = await store.deliver('spread', 'r-2', [
      { path: 'stdout', data: Buffer.from('x'.repeat(OUTPUT_PREVIEW_BYTES + 10)) },
      { path: 'outputs/out.txt', data: Buffer.from('majority\n') },
    ]);
    await store.save(kept('spread', 'r-1', { startedAt: '2026-01-01T00:00:00.000Z' }));
    await store.save(kept('spread', 'r-2', { startedAt: '2026-01-02T00:00:00.000Z', delivered: { dir: store.runDir('spread', 'r-2'), files } }));
    await store.save(kept('gone-job', 'r-3', { startedAt: '2026-01-03T00:00:00.000Z', runner: 'h2', mode: 'local', delivered: { dir: '/elsewhere', files: ['stdout'] } }));
    expect((await bridge.jobs.results({ job: 'spread' })).map((r) => r.id)).toEqual(['r-2', 'r-1']);
    expect((await bridge.jobs.results({})).map((r) => r.id)).toEqual(['r-3', 'r-2', 'r-1']);
    expect((await bridge.jobs.results({ limit: 1 })).map((r) => r.id)).toEqual(['r-3']);
    const one = await bridge.jobs.result({ job: 'spread', id: 'r-2' });
    expect(one.attempts[0]?.replicas.map((r) => [r.node, r.verdict])).toEqual([
      ['h1', 'agreed'],
      ['h2', 'agreed'],
      ['h3', 'dissented'],
    ]);
    expect((await bridge.jobs.list()).find((j) => j.name === 'spread')?.last).toMatchObject({ id: 'r-2', outcome: 'succeeded' });

    expect(await bridge.jobs.output({ job: 'spread', id: 'r-2', file: 'outputs/out.txt' })).toEqual({ text: 'majority\n', bytes: 9, truncated: false });
    const stdout = await bridge.jobs.output({ job: 'spread', id: 'r-2', file: 'stdout' });
    expect([stdout.text.length, stdout.bytes, stdout.truncated]).toEqual([OUTPUT_PREVIEW_BYTES, OUTPUT_PREVIEW_BYTES + 10, true]);
    // Only the files the run delivered, only where they are on this machine, never through a link.
    expect(await codeOf(bridge.jobs.output({ job: 'spread', id: 'r-2', file: 'run.json' }))).toBe('JOB_E_BAD_REQUEST');
    expect(await codeOf(bridge.jobs.output({ job: 'spread', id: 'r-2', file: '../r-1/run.json' }))).toBe('JOB_E_BAD_REQUEST');
    expect(await codeOf(bridge.jobs.output({ job: 'spread', id: 'r-1', file: 'stdout' }))).toBe('JOB_E_BAD_REQUEST');
    expect(await codeOf(bridge.jobs.output({ job: 'gone-job', id: 'r-3', file: 'stdout' }))).toBe('JOB_E_OUTPUT_ELSEWHERE');
    const out = path.join(store.runDir('spread', 'r-2'), 'outputs/out.txt');
    fs.rmSync(out);
    fs.symlinkSync('/etc/hostname', out);
    expect(await codeOf(bridge.jobs.output({ job: 'spread', id: 'r-2', file: 'outputs/out.txt' }))).toBe('JOB_E_OUTPUT_ELSEWHERE');
    expect((await bridge.jobs.list()).length).toBe(2);
  });
});
