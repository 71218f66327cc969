import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { JobRun } from '../../common/wire/jobs.js';
import { Manager } from '../../main/core/manager.js';
import { standUpAgent } from '../helpers/cluster-agents.js';
import { TestNetwork } from '../helpers/netns.js';
import { waitFor } from '../helpers/wait.js';

const ARMORY = path.resolve(import.meta.dirname, '../../bin/armory.js');
const net = new TestNetwork();
let home = '';
let inputs = '';
let manager: Manager;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return e instanceof ArmoryError ? `${e.code}: ${e.message}` : String(e);
  }
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-jobs-'));
  inputs = path.join(home, 'inputs');
  fs.mkdirSync(inputs);
  fs.writeFileSync(path.join(inputs, 'numbers.txt'), '3\n1\n2\n');
  fs.writeFileSync(path.join(inputs, 'stdin.txt'), 'fed to every replica\n');
  fs.writeFileSync(path.join(inputs, 'big.bin'), Buffer.alloc(600 * 1024, 7));
  manager = new Manager({ ARMORY_HOME: path.join(home, 'manager') });
  await manager.open();
  net.up(['h1', 'h2', 'h3']);
  await Promise.all(['h1', 'h2', 'h3'].map((h) => standUpAgent(manager, net, home, h)));
  const r = await manager.apply(`nodes:
  h1: { address: ${net.host('h1').address} }
  h2: { address: ${net.host('h2').address} }
  h3: { address: ${net.host('h3').address} }
jobs:
  sort:
    on: nodes
    command: /bin/sh
    args: ["-c", "sort -n numbers.txt > sorted.txt; cat; echo \\"$1\\"", "sh", "same argument"]
    inputs: [${inputs}/numbers.txt]
    stdin: ${inputs}/stdin.txt
    outputs: [sorted.txt]
    replicas: 3
    quorum: 2
    timeout: 5s
  odd-one:
    on: nodes
    command: /bin/sh
    args: ["-c", "if [ $ARMORY_REPLICA = 3 ]; then echo other > out; else echo same > out; fi"]
    outputs: [out]
    nodes: [h3, h2, h1]
    timeout: 5s
  each-its-own:
    on: nodes
    command: /bin/sh
    args: ["-c", "echo $ARMORY_REPLICA"]
    retries: 1
    timeout: 5s
  rough:
    on: nodes
    command: /bin/sh
    args: ["-c", "case $ARMORY_REPLICA in 2) kill -SEGV $$;; 3) sleep 30;; *) echo fine;; esac"]
    quorum: 1
    timeout: 3s
  agent-freezes:
    on: nodes
    command: /bin/sh
    args: ["-c", "if [ $ARMORY_REPLICA = 3 ]; then kill -STOP $PPID; fi; echo fine"]
    timeout: 3s
  two-of-three:
    on: nodes
    command: /bin/echo
    args: ["ok"]
    timeout: 5s
  too-big:
    on: nodes
    command: /bin/true
    inputs: [${inputs}/big.bin]
  gone:
    on: nodes
    command: /bin/true
    inputs: [${inputs}/nowhere.txt]
  local-here:
    command: /bin/echo
    args: ["sandboxed"]
`);
  expect(r.pushed.every((p) => p.ok)).toBe(true);
}, 90_000);

afterAll(() => {
  manager?.close();
  net.down();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

describe('redundant jobs on nodes: one replica per node, voted by the manager', () => {
  it('each node gets the same arguments, stdin and input files; they agree and the winning outputs are delivered to the manager', async () => {
    const run = await manager.jobs.run('sort');
    expect(run.outcome).toBe('succeeded');
    expect(run.runner).toBe('manager');
    const replicas = run.attempts[0]?.replicas ?? [];
    expect(replicas.map((r) => [r.replica, r.node, r.verdict])).toEqual([
      [1, 'h1', 'agreed'],
      [2, 'h2', 'agreed'],
      [3, 'h3', 'agreed'],
    ]);
    const dir = run.delivered?.dir as string;
    expect(dir.startsWith(path.join(home, 'manager', 'jobs', 'sort'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'outputs/sorted.txt'), 'utf8')).toBe('1\n2\n3\n');
    expect(fs.readFileSync(path.join(dir, 'stdout'), 'utf8')).toBe('fed to every replica\nsame argument\n');
    expect(manager.jobs.results('sort').map((r) => r.id)).toEqual([run.id]);
    // Each node ran its replica and says so in its own journal.
    await manager.collectEvents('h2');
    expect(manager.readEvents({ node: 'h2' }).some((e) => e.kind === 'job' && /job sort: replica 2 \(attempt 1\) for the manager: exited/.test(e.reason))).toBe(true);
  });

  it('a node whose result differs is named as dissenting, in the result and in the manager journal', async () => {
    const run = await manager.jobs.run('odd-one');
    expect(run.outcome).toBe('succeeded');
    const r = run.attempts[0]?.replicas ?? [];
    expect(r.map((x) => [x.node, x.verdict])).toEqual([
      ['h3', 'agreed'],
      ['h2', 'agreed'],
      ['h1', 'dissented'],
    ]);
    expect(fs.readFileSync(path.join(run.delivered?.dir as string, 'outputs/out'), 'utf8')).toBe('same\n');
    const final = manager.readEvents({ node: 'manager' }).filter((e) => e.kind === 'job' && e.detail?.job === 'odd-one').at(-1);
    expect(final?.reason).toMatch(/^job odd-one succeeded: 2 of 3 agree \(quorum 2\); replica 3 on h1 dissented/);
    expect(final?.detail?.dissenters).toEqual([{ replica: 3, node: 'h1', verdict: 'dissented', reason: expect.stringContaining('differs from the majority') }]);
  });

  it('a replica that crashes on its node and one that hangs there past the timeout are named with their node', async () => {
    const run = await manager.jobs.run('rough');
    expect(run.outcome).toBe('succeeded');
    const r = run.attempts[0]?.replicas ?? [];
    expect(r.map((x) => [x.node, x.verdict, x.reason])).toEqual([
      ['h1', 'agreed', 'exit code 0'],
      ['h2', 'crashed', 'killed by SIGSEGV'],
      ['h3', 'timed-out', 'still running after 3000 ms; its process group was killed'],
    ]);
    expect(run.summary).toContain('replica 2 on h2 crashed (killed by SIGSEGV); replica 3 on h3 timed-out');
  });

  it('a node whose agent stops answering while its replica runs is named as timed out', async () => {
    // Replica 3 freezes its own agent (its parent) with SIGSTOP: the node goes silent mid-call.
    const pidFile = path.join(home, 'hosts/h3/var-lib-armory/agent.pid');
    const agentPid = Number(fs.readFileSync(pidFile, 'utf8').split(' ')[0]);
    manager.jobs.answerGraceMs = 500;
    try {
      const run = await manager.jobs.run('agent-freezes');
      expect(run.outcome).toBe('succeeded');
      const r = run.attempts[0]?.replicas ?? [];
      expect(r.map((x) => [x.node, x.verdict])).toEqual([
        ['h1', 'agreed'],
        ['h2', 'agreed'],
        ['h3', 'timed-out'],
      ]);
      expect(r[2]?.reason).toBe('node h3 gave no answer within 3500 ms');
    } finally {
      process.kill(agentPid, 'SIGCONT');
    }
    await manager.waitForAgent('h3', 10_000);
  });

  it('with no majority the job is re-run, then fails loudly', async () => {
    const run = await manager.jobs.run('each-its-own');
    expect(run.outcome).toBe('no-majority');
    expect(run.attempts).toHaveLength(2);
    expect(run.error?.code).toBe('JOB_E_NO_MAJORITY');
    expect(run.delivered).toBeNull();
  });

  it('refuses inputs too large to send, a missing input and an unknown job before anything runs', async () => {
    expect(await codeOf(manager.jobs.run('too-big'))).toMatch(/^JOB_E_INPUT_TOO_LARGE: job too-big: its inputs and stdin are 614400 bytes; at most 524288/);
    expect(await codeOf(manager.jobs.run('gone'))).toMatch(/^JOB_E_INPUT_MISSING: .*nowhere\.txt/);
    expect(await codeOf(manager.jobs.run('nope'))).toMatch(/^JOB_E_UNKNOWN/);
    expect(manager.readEvents({ node: 'manager' }).some((e) => e.detail?.job === 'too-big')).toBe(false);
  });

  it('a node cut off the network is named as a replica that could not run; the other two still decide', async () => {
    net.link('h3', 'down');
    try {
      const run = await manager.jobs.run('two-of-three');
      expect(run.outcome).toBe('succeeded');
      const r = run.attempts[0]?.replicas ?? [];
      expect(r.map((x) => x.verdict)).toEqual(['agreed', 'agreed', 'failed-to-start']);
      expect(r[2]?.reason).toMatch(/no reachable node left for it \(2 of 3 answer; h3: /);
    } finally {
      net.link('h3', 'up');
    }
    await waitFor('h3 to answer again', async () => (await manager.status()).find((n) => n.node === 'h3')?.reachable);
  });

  it('a local-mode job runs as sandboxes on the node named, and is kept by the manager too', async () => {
    const run = await manager.jobs.run('local-here', { node: 'h2' });
    expect(run.outcome).toBe('succeeded');
    expect(run.mode).toBe('local');
    expect(run.runner).toBe('h2');
    expect(manager.jobs.results('local-here')[0]?.id).toBe(run.id);
    expect(await codeOf(manager.jobs.run('local-here'))).toMatch(/^JOB_E_NO_NODES: job local-here runs as local sandboxes: say on which node/);
  });

  it('armory job run and job results print the vote, every replica and its fingerprint, and exit 1 on failure', async () => {
    manager.close();
    const armory = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [ARMORY, ...args], { env: { ...process.env, ARMORY_HOME: path.join(home, 'manager') }, timeout: 60_000 }, (e, stdout, stderr) =>
          resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
        ),
      );
    const ok = await armory('job', 'run', 'odd-one');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^job odd-one: SUCCEEDED — 2 of 3 agree, quorum 2, exit code 0/);
    expect(ok.stdout).toMatch(/replica 3 on h1 +DISSENTED +[0-9a-f]{12} +exit code 0; result [0-9a-f]{12} differs from the majority's [0-9a-f]{12}/);
    expect(ok.stdout).toContain('dissenting: replica 3 on h1 (dissented)');
    const failed = await armory('job', 'run', 'each-its-own');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('[JOB_E_NO_MAJORITY]');
    const kept = await armory('job', 'results', 'odd-one', '--json');
    expect((JSON.parse(kept.stdout) as { runs: JobRun[] }).runs).toHaveLength(2);
    const unknown = await armory('job', 'run', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('[JOB_E_UNKNOWN]');
  });
});
