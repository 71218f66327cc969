import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../../common/config/load.js';
import { ArmoryError } from '../../../../common/errors/armory-error.js';
import { jobSpecSha256 } from '../../../../common/node/job-fingerprint.js';
import { ControlClient } from '../../../../common/node/rpc-client.js';
import type { JobRun } from '../../../../common/wire/jobs.js';
import { AgentHarness, cli } from '../../../helpers/agent-harness.js';
import { waitFor } from '../../../helpers/wait.js';

let h: AgentHarness;
let dir: string;

/** Processes still alive that a replica of this job started (the sandbox sets ARMORY_JOB). */
function replicaProcesses(job: string): number[] {
  const needle = Buffer.from(`\0ARMORY_JOB=${job}\0`);
  const found: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const env = Buffer.concat([Buffer.from([0]), fs.readFileSync(`/proc/${e}/environ`)]);
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      if (env.includes(needle) && !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) found.push(Number(e));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

beforeAll(async () => {
  h = new AgentHarness('');
  dir = path.join(h.dir, 'in');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'words.txt'), 'armory keeps things running\n');
  fs.writeFileSync(path.join(dir, 'stdin.txt'), 'from stdin\n');
  h.writeConfig(`jobs:
  upper:
    command: /bin/sh
    args: ["-c", "mkdir out; tr a-z A-Z < words.txt > out/upper.txt; cat; echo \\"$1\\"", "sh", "an argument"]
    inputs: [${dir}/words.txt]
    stdin: ${dir}/stdin.txt
    outputs: [out/upper.txt]
    replicas: 3
    quorum: 2
    timeout: 5s
  mixed:
    command: /bin/sh
    args: ["-c", "case $ARMORY_REPLICA in 3) echo other;; 4) kill -SEGV $$;; 5) sleep 60 & sleep 60;; *) echo same;; esac"]
    replicas: 5
    quorum: 2
    timeout: 3s
  split:
    command: /bin/sh
    args: ["-c", "echo replica $ARMORY_REPLICA"]
    replicas: 3
    quorum: 2
    retries: 2
    timeout: 5s
  second-time:
    command: /bin/sh
    args: ["-c", "if [ $ARMORY_ATTEMPT = 1 ]; then echo $ARMORY_REPLICA; else echo settled; fi"]
    replicas: 3
    retries: 1
    timeout: 5s
  agreed-failure:
    command: /bin/sh
    args: ["-c", "echo broken >&2; exit 3"]
    timeout: 5s
  file-differs:
    command: /bin/sh
    args: ["-c", "if [ $ARMORY_REPLICA = 2 ]; then echo x > result; fi; echo same"]
    outputs: [result]
    replicas: 3
    quorum: 2
    timeout: 5s
  sneaky:
    command: /bin/sh
    args: ["-c", "mkdir d; ln -s /etc/hostname leak; ln -s /etc d/up; echo hi"]
    outputs: [leak, d/up/hostname]
    replicas: 1
    quorum: 1
    timeout: 5s
  escapee:
    command: /bin/sh
    args: ["-c", "setsid sh -c 'touch started; exec sleep 30' & while [ ! -f started ]; do sleep 0.05; done; echo left a daemon"]
    replicas: 1
    quorum: 1
    timeout: 20s
  sleepy:
    command: /bin/sleep
    args: ["60"]
    timeout: 50s
  no-program:
    command: /nonexistent/program
    timeout: 5s
  no-input:
    command: /bin/cat
    inputs: [${dir}/missing.txt]
  on-nodes:
    command: /bin/sh
    args: ["-c", "cp words.txt copy; echo replica $ARMORY_REPLICA"]
    inputs: [${dir}/words.txt]
    outputs: [copy]
    on: nodes
`);
  fs.mkdirSync(h.stateDir, { recursive: true });
  await h.start();
}, 30_000);

afterAll(async () => {
  await h.dispose();
});

async function runJob(name: string): Promise<{ code: number; run: JobRun; text: string }> {
  const json = await cli(['job', 'run', name, '--json', '--state-dir', h.stateDir]);
  expect(json.stderr).toBe('');
  const run = JSON.parse(json.stdout) as JobRun;
  const latest = await cli(['job', 'results', name, '--limit', '1', '--state-dir', h.stateDir]);
  return { code: json.code, run, text: latest.stdout };
}

describe('local jobs: replicas as sandboxes of one agent, voted k-of-n', () => {
  it('replicas fed the same inputs, stdin and arguments agree; the winning outputs are delivered and kept', async () => {
    const { code, run, text } = await runJob('upper');
    expect(code).toBe(0);
    expect(run.outcome).toBe('succeeded');
    expect(run.attempts).toHaveLength(1);
    expect(run.attempts[0]?.replicas.map((r) => r.verdict)).toEqual(['agreed', 'agreed', 'agreed']);
    const fp = run.winner as string;
    expect(run.attempts[0]?.replicas.every((r) => r.fingerprint === fp)).toBe(true);
    expect(fs.readFileSync(path.join(run.delivered?.dir as string, 'outputs/out/upper.txt'), 'utf8')).toBe('ARMORY KEEPS THINGS RUNNING\n');
    expect(fs.readFileSync(path.join(run.delivered?.dir as string, 'stdout'), 'utf8')).toBe('from stdin\nan argument\n');
    expect(text).toContain('job upper: SUCCEEDED — 3 of 3 agree, quorum 2, exit code 0');
    expect(text).toMatch(new RegExp(`replica 2 +agreed +${fp.slice(0, 12)}  exit code 0`));
    // The sandboxes are gone; the result stays.
    expect(fs.readdirSync(path.join(h.stateDir, 'jobs/work/upper'))).toEqual([]);
    const kept = JSON.parse((await cli(['job', 'results', 'upper', '--json', '--state-dir', h.stateDir])).stdout) as { runs: JobRun[] };
    expect(kept.runs.map((r) => r.id)).toEqual([run.id]);
  });

  it('names the replica that dissents, the one that crashes and the one that hangs past its timeout; the majority still wins', async () => {
    const { code, run, text } = await runJob('mixed');
    expect(code).toBe(0);
    expect(run.outcome).toBe('succeeded');
    const verdicts = Object.fromEntries((run.attempts[0]?.replicas ?? []).map((r) => [r.replica, [r.verdict, r.reason]]));
    expect(verdicts[1]?.[0]).toBe('agreed');
    expect(verdicts[2]?.[0]).toBe('agreed');
    expect(verdicts[3]).toEqual(['dissented', expect.stringContaining('differs from the majority')]);
    expect(verdicts[4]).toEqual(['crashed', 'killed by SIGSEGV']);
    expect(verdicts[5]).toEqual(['timed-out', 'still running after 3000 ms; its process group was killed']);
    expect(text).toContain('dissenting: replica 3 (dissented), replica 4 (crashed), replica 5 (timed-out)');
    // The hung replica and the child it left behind were killed as a group.
    expect(replicaProcesses('mixed')).toEqual([]);
    const events = (await h.events()).filter((e) => e.kind === 'job' && e.detail?.job === 'mixed');
    const attempt = events.find((e) => e.reason.startsWith('job mixed: attempt 1:'));
    expect(attempt?.reason).toContain('replica 4 crashed (killed by SIGSEGV)');
    expect(attempt?.detail?.dissenters).toEqual([
      { replica: 3, verdict: 'dissented', reason: expect.any(String) },
      { replica: 4, verdict: 'crashed', reason: 'killed by SIGSEGV' },
      { replica: 5, verdict: 'timed-out', reason: expect.any(String) },
    ]);
  });

  it('without a majority the job is re-run up to its retries, then fails loudly', async () => {
    const { code, run, text } = await runJob('split');
    expect(code).toBe(1);
    expect(run.outcome).toBe('no-majority');
    expect(run.attempts).toHaveLength(3);
    expect(run.delivered).toBeNull();
    expect(run.error?.code).toBe('JOB_E_NO_MAJORITY');
    expect(text).toContain('job split: FAILED');
    expect(text).toContain('[JOB_E_NO_MAJORITY]');
    const final = (await h.events()).filter((e) => e.kind === 'job' && e.detail?.job === 'split').at(-1);
    expect(final?.reason).toMatch(/^job split FAILED after 3 attempts: no majority: a tie at 1 of 3/);
    const human = await cli(['job', 'run', 'split', '--state-dir', h.stateDir]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('attempt 3: no majority');
  });

  it('a re-run that reaches a majority succeeds', async () => {
    const { code, run } = await runJob('second-time');
    expect(code).toBe(0);
    expect(run.attempts.map((a) => a.decided)).toEqual([false, true]);
  });

  it('replicas that agree on a failure make the job fail without a re-run', async () => {
    const { code, run, text } = await runJob('agreed-failure');
    expect(code).toBe(1);
    expect(run.outcome).toBe('command-failed');
    expect(run.exitCode).toBe(3);
    expect(run.attempts).toHaveLength(1);
    expect(text).toContain('COMMAND FAILED');
  });

  it('a differing or missing output file is a dissent', async () => {
    const { run } = await runJob('file-differs');
    const r = run.attempts[0]?.replicas ?? [];
    expect(r.map((x) => x.verdict)).toEqual(['agreed', 'dissented', 'agreed']);
    expect(r[0]?.outputs).toEqual([{ path: 'result', sha256: null, bytes: null }]);
    expect(r[0]?.reason).toBe('exit code 0; missing output result');
    expect(run.delivered?.files).toEqual(['stdout']);
  });

  it('an output that is a link out of the working directory counts as missing and is never delivered', async () => {
    const { run } = await runJob('sneaky');
    expect(run.attempts[0]?.replicas[0]?.outputs).toEqual([
      { path: 'leak', sha256: null, bytes: null },
      { path: 'd/up/hostname', sha256: null, bytes: null },
    ]);
    expect(run.delivered?.files).toEqual(['stdout']);
  });

  it('a descendant that leaves the replica\'s group and keeps its stdout open does not hold the job up', async () => {
    try {
      const { code, run } = await runJob('escapee');
      expect(code).toBe(0);
      expect(run.attempts[0]?.replicas[0]?.reason).toBe('exit code 0');
      // The daemon still runs in a session of its own; the job ended without it.
      expect(replicaProcesses('escapee')).toHaveLength(1);
    } finally {
      for (const pid of replicaProcesses('escapee')) process.kill(pid, 'SIGKILL');
    }
  });

  it('replicas that cannot start are named, and the job fails', async () => {
    const { code, run } = await runJob('no-program');
    expect(code).toBe(1);
    expect(run.attempts.at(-1)?.replicas.every((r) => r.verdict === 'failed-to-start' && r.reason.includes('/nonexistent/program'))).toBe(true);
  });

  it('refuses an unknown job, a missing input and a nodes job with coded errors', async () => {
    const unknown = await cli(['job', 'run', 'nope', '--state-dir', h.stateDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('[JOB_E_UNKNOWN]');
    const missing = await cli(['job', 'run', 'no-input', '--state-dir', h.stateDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/missing\.txt is not a readable file.*\[JOB_E_INPUT_MISSING\]/s);
    const nodes = await cli(['job', 'run', 'on-nodes', '--state-dir', h.stateDir]);
    expect(nodes.stderr).toContain('[JOB_E_MODE]');
    const results = await cli(['job', 'results', 'nope', '--state-dir', h.stateDir]);
    expect(results.stderr).toContain('[JOB_E_UNKNOWN]');
    expect((await h.status()).length).toBe(0);
  });

  it('runs one replica of a nodes job for the manager, and refuses a request that does not fit the job with a coded error', async () => {
    const parsed = parseConfigText(fs.readFileSync(h.configFile, 'utf8'));
    if (!parsed.ok) throw new Error('test config is invalid');
    const specSha256 = jobSpecSha256(parsed.config.jobs['on-nodes'] as NonNullable<(typeof parsed.config.jobs)[string]>);
    const words = Buffer.from('sent by the manager\n');
    const c = await ControlClient.connect(path.join(h.stateDir, 'agent.sock'));
    const codeOf = async (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (e instanceof ArmoryError ? e.code : String(e)));
    try {
      const base = { job: 'on-nodes', specSha256, replica: 2, attempt: 1, inputs: [{ name: 'words.txt', data: words.toString('base64') }] };
      const answer = await c.call('job.replica', base);
      expect(answer.result.status).toBe('exited');
      expect(Buffer.from(answer.stdout, 'base64').toString()).toBe('replica 2\n');
      expect(answer.outputs).toEqual([{ path: 'copy', data: words.toString('base64') }]);
      expect(await codeOf(c.call('job.replica', { ...base, specSha256: 'b'.repeat(64) }))).toBe('JOB_E_SPEC_MISMATCH');
      expect(await codeOf(c.call('job.replica', { ...base, inputs: [] }))).toBe('JOB_E_BAD_REQUEST');
      expect(await codeOf(c.call('job.replica', { ...base, stdin: '' }))).toBe('JOB_E_BAD_REQUEST');
      expect(await codeOf(c.call('job.replica', { ...base, job: 'upper' }))).toBe('JOB_E_MODE');
      expect(await codeOf(c.call('job.replica', { ...base, job: 'ghost' }))).toBe('JOB_E_UNKNOWN');
      const big = Buffer.alloc(600 * 1024).toString('base64');
      expect(await codeOf(c.call('job.replica', { ...base, inputs: [{ name: 'words.txt', data: big }] }))).toBe('RPC_E_BAD_PARAMS');
      expect(await codeOf(c.call('job.replica', { ...base, inputs: [{ name: '../escape', data: '' }] }))).toBe('RPC_E_BAD_PARAMS');
    } finally {
      c.close();
    }
    // Still serving.
    expect((await cli(['status', '--state-dir', h.stateDir])).code).toBe(0);
    expect(fs.readdirSync(path.join(h.stateDir, 'jobs/work/on-nodes'))).toEqual([]);
  });

  it('shutting the agent down kills the replicas it runs', async () => {
    const pending = cli(['job', 'run', 'sleepy', '--state-dir', h.stateDir]);
    await waitFor('three replicas to run', () => replicaProcesses('sleepy').length === 3);
    expect((await cli(['shutdown', '--state-dir', h.stateDir])).code).toBe(0);
    await waitFor('the replicas to be gone', () => replicaProcesses('sleepy').length === 0, { timeoutMs: 5000 });
    expect((await pending).code).not.toBe(0);
  });
});
