import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../../../common/node/rpc-client.js';
import { signConfig } from '../../../../main/core/config-signing.js';
import { enrollNode, type EnrollmentResult } from '../../../../main/core/enrollment/enroll-node.js';
import type { EnrollOptions } from '../../../../main/core/enrollment/enrollment-options.js';
import { removeNode, type RemovalResult } from '../../../../main/core/enrollment/remove-node.js';
import type { ProgressEvent } from '../../../../main/core/enrollment/step-runner.js';
import type { CertificateAndKey } from '../../../../main/core/pki/certificate-and-key.js';
import { createClusterCa } from '../../../../main/core/pki/cluster-ca.js';
import { issueCertificate } from '../../../../main/core/pki/issue-certificate.js';
import { freeTcpPort, TestSshAgent, TestSshd, TestSudoUser } from '../../../helpers/sshd-server.js';
import { readCrontab, restoreCrontab } from '../../../helpers/crontab.js';
import { waitFor } from '../../../helpers/wait.js';

const REPO = path.resolve(import.meta.dirname, '../../../..');
const NODE = 'n1';
const STEPS = ['connect', 'profile', 'previous', 'upload', 'certificate', 'install', 'start'];

let sshd: TestSshd;
let sudoUser: TestSudoUser;
let ca: CertificateAndKey;
let manager: CertificateAndKey;
/** root's crontab before the tests (null: none); every test must leave it so. */
let crontabAtStart: string | null;

// Per test: the "host" is this machine, so everything the enrollment installs goes under a root of its own.
let root = '';
let agentPort = 0;
const clients: ControlClient[] = [];
const programPids: number[] = [];
const mounts: string[] = [];

/** Every file and folder under dir, with its type and mode: "the host as it was" is this listing. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      const st = fs.lstatSync(path.join(dir, r));
      out.push(`${r} ${e.isDirectory() ? 'd' : 'f'}${(st.mode & 0o7777).toString(8)}`);
      if (e.isDirectory()) walk(r);
    }
  };
  walk('');
  return out.sort();
}

/** Processes whose command line mentions the test's root: the keeper and the agent of this test. */
function processesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir)) found.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function options(extra: Partial<EnrollOptions> = {}): EnrollOptions {
  return {
    node: NODE,
    host: '127.0.0.1',
    port: sshd.port,
    user: 'root',
    auth: { keyFile: sshd.clientKey, passphrase: sshd.clientKeyPassphrase },
    trust: sshd.hostKeyFingerprint,
    ca,
    manager,
    agentPort,
    agentListen: '127.0.0.1',
    bundleDir: REPO,
    installRoot: root,
    timeouts: { agentStartMs: 20_000 },
    ...extra,
  };
}

async function enroll(extra: Partial<EnrollOptions> = {}): Promise<{ result: EnrollmentResult; events: ProgressEvent[] }> {
  const events: ProgressEvent[] = [];
  const result = await enrollNode(options(extra), (e) => events.push(e));
  return { result, events };
}

async function remove(extra: Partial<EnrollOptions> = {}): Promise<RemovalResult> {
  const o = options(extra);
  return removeNode({ node: o.node, host: o.host, port: o.port, user: o.user, auth: o.auth, pinnedHostKey: sshd.hostKeyFingerprint, installRoot: root }, () => undefined);
}

async function agentClient(): Promise<ControlClient> {
  const c = await ControlClient.connectTls({ host: '127.0.0.1', port: agentPort, caPem: ca.certPem, certPem: manager.certPem, keyPem: manager.keyPem, expectName: NODE });
  clients.push(c);
  return c;
}

/** Pushes version 1 of a configuration that places `/bin/sleep 1000` on the node, and returns the program's pid once it runs. */
async function runSleeper(): Promise<number> {
  const yaml = `nodes:\n  ${NODE}: { address: 127.0.0.1, agentPort: ${agentPort} }\nservices:\n  sleeper:\n    command: /bin/sleep\n    args: ["1000"]\n    placement: { nodes: [${NODE}] }\n`;
  const c = await agentClient();
  const pushed = await c.call('config.push', { config: signConfig({ version: 1, issuedAt: new Date().toISOString(), cluster: 'test', yaml }, manager) });
  expect(pushed.started).toEqual(['sleeper']);
  const running = await waitFor('sleeper to run', async () => (await c.call('status')).services.find((s) => s.name === 'sleeper' && s.state === 'running' && s.pid !== null));
  c.close();
  programPids.push(running.pid as number);
  return running.pid as number;
}

function expectOk(r: EnrollmentResult | RemovalResult): void {
  if (!r.ok) throw new Error(`failed at ${r.failedStep}: ${r.error.message} [${r.error.code}]`);
  // ARMORY_PRINT_STEPS=1 prints the time each step took (enrollment on loopback).
  if (process.env.ARMORY_PRINT_STEPS) console.log(r.steps.map((s) => `${s.step.padEnd(12)} ${String(s.ms).padStart(6)} ms  ${s.detail}`).join('\n'));
}

function expectNothingLeft(before: string[]): void {
  expect(processesUnder(root)).toEqual([]);
  expect(listing(root)).toEqual(before);
  expect(readCrontab()).toBe(crontabAtStart);
}

beforeAll(async () => {
  sshd = await TestSshd.start();
  sudoUser = TestSudoUser.create('armory-test');
  ca = await createClusterCa({ clusterName: 'test' });
  manager = await issueCertificate(ca, { role: 'manager', name: 'manager' });
  crontabAtStart = readCrontab();
});

afterAll(async () => {
  await sshd?.stop();
  sudoUser?.remove();
});

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-enr-'));
  agentPort = await freeTcpPort();
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  // A failing test must not leave a keeper, an agent or a program behind.
  const left = [...processesUnder(root), ...programPids.splice(0).filter(alive)];
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  for (const m of mounts.splice(0)) spawnSync('umount', ['-l', m]);
  fs.rmSync(root, { recursive: true, force: true });
  // Put root's crontab back should a failed test have left a line in it.
  restoreCrontab(crontabAtStart);
  expect(left, 'processes left behind').toEqual([]);
});

describe('enrollment over SSH (a real sshd on 127.0.0.1)', () => {
  it('enrolls by key: the agent answers over mutual TLS and runs a signed configuration; enrolling again is safe; removal leaves nothing', async () => {
    const before = listing(root);
    const asked: string[] = [];
    const { result, events } = await enroll({
      trust: undefined,
      confirmHostKey: (fp) => {
        asked.push(fp);
        return Promise.resolve(true);
      },
    });
    expectOk(result);
    if (!result.ok) return;
    // The fingerprint is OpenSSH's, and the caller was asked about it once.
    expect(result.hostKey).toBe(sshd.hostKeyFingerprint);
    expect(asked).toEqual([sshd.hostKeyFingerprint]);
    expect(result.steps.map((s) => [s.step, s.status])).toEqual(STEPS.map((s) => [s, 'done']));
    for (const s of STEPS) {
      const mine = events.filter((e) => e.step === s).map((e) => e.status);
      expect(mine[0], s).toBe('running');
      expect(mine.at(-1), s).toBe('done');
    }
    expect(result.profile).toMatchObject({ os: 'Linux', arch: 'x64', libc: 'glibc', root: true, systemd: false });
    expect(result.profile.cpus).toBeGreaterThan(0);
    expect(result.profile.interfaces.some((i) => i.name === 'lo')).toBe(true);
    expect(result.plan).toMatchObject({ service: 'keeper', runtime: 'host', crontab: true });

    // What landed on the host: bundle, certificate with owner-only key and state folder, crontab line.
    const install = path.join(root, 'opt/armory');
    const state = path.join(root, 'var/lib/armory');
    expect(fs.existsSync(path.join(install, 'dist/agent.js'))).toBe(true);
    expect(fs.existsSync(path.join(install, 'node_modules/@koromix/koffi-linux-x64'))).toBe(true);
    expect(fs.statSync(state).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(state, 'tls/node.key')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(state, 'tls/node.pem')).mode & 0o777).toBe(0o644);
    expect(readCrontab()).toContain(`@reboot cd / && '/usr/bin/node' '${install}/dist/agent.js' 'keeper' '--listen' '127.0.0.1:${agentPort}' '--state-dir' '${state}'`);

    // The manager pushes a signed configuration; the agent runs the program placed on it.
    const sleeperPid = await runSleeper();

    // Enrolling again (this time with ssh-agent and the pinned key): files replaced, agent restarted, the program untouched.
    const sshAgent = await TestSshAgent.start(root, sshd.agentKey);
    try {
      const again = await enroll({ auth: { agent: true, socket: sshAgent.socket }, trust: undefined, pinnedHostKey: result.hostKey });
      expectOk(again.result);
      expect(again.result.steps.find((s) => s.step === 'previous')?.detail).toMatch(/stopped its keeper .* and agent|stopped its agent .* and keeper/);
      expect(again.result.steps.find((s) => s.step === 'upload')?.detail).toMatch(/replacing the earlier bundle/);
    } finally {
      await sshAgent.stop();
    }
    expect(readCrontab()?.split('\n').filter((l) => l.includes(state)).length).toBe(1);
    const c2 = await agentClient();
    const status = await c2.call('status');
    expect(status.agent.configVersion).toBe('v1');
    expect(status.services.find((s) => s.name === 'sleeper')).toMatchObject({ state: 'running', pid: sleeperPid });
    expect(fs.readdirSync(path.join(root, 'opt')).sort()).toEqual(['armory']);
    c2.close();

    // Removal stops the program and the agent and leaves the host as it was.
    const removed = await remove();
    expectOk(removed);

    await waitFor('the program to be stopped', () => !alive(sleeperPid), { timeoutMs: 5000 });
    expectNothingLeft(before);
  }, 90_000);

  it('enrolls by password through sudo, shipping a Node runtime, and removes it again', async () => {
    const before = listing(root);
    const { result } = await enroll({ user: sudoUser.name, auth: { password: sudoUser.password }, runtime: 'bundled' });
    expectOk(result);
    if (!result.ok) return;
    expect(result.profile).toMatchObject({ root: false, sudo: true });
    expect(result.plan).toMatchObject({ privilege: 'sudo', runtime: 'bundled', nodePath: path.join(root, 'opt/armory/runtime/bin/node') });
    // Root owns what sudo put in place; the agent runs on the shipped Node.
    expect(fs.statSync(path.join(root, 'opt/armory/dist/agent.js')).uid).toBe(0);
    const keeper = processesUnder(root).map((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'));
    expect(keeper.some((argv) => argv[0] === path.join(root, 'opt/armory/runtime/bin/node') && argv.includes('keeper'))).toBe(true);
    const c = await agentClient();
    expect((await c.call('hello', { protocol: 1 })).protocol).toBe(1);
    c.close();

    expectOk(await remove({ user: sudoUser.name, auth: { password: sudoUser.password } }));
    expectNothingLeft(before);
  }, 90_000);

  it('refuses a host whose key changed, a key nobody confirmed or trusted, and wrong credentials, without doing anything', async () => {
    const before = listing(root);
    const pinned = sshd.hostKeyFingerprint;
    const codeOf = (r: EnrollmentResult) => (r.ok ? 'ok' : `${r.failedStep} ${r.error.code}`);
    expect(codeOf((await enroll({ trust: undefined, confirmHostKey: () => Promise.resolve(false) })).result)).toBe('connect ENROLL_E_HOST_KEY_REJECTED');
    expect(codeOf((await enroll({ trust: `SHA256:${'A'.repeat(43)}` })).result)).toBe('connect ENROLL_E_HOST_KEY_REJECTED');
    expect(codeOf((await enroll({ user: sudoUser.name, auth: { password: 'not the password' } })).result)).toBe('connect ENROLL_E_AUTH');
    expect(codeOf((await enroll({ auth: { keyFile: sshd.clientKey, passphrase: 'wrong' } })).result)).toBe('connect ENROLL_E_AUTH');

    const presented = await sshd.rotateHostKey();
    const { result, events } = await enroll({ trust: undefined, pinnedHostKey: pinned });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failedStep).toBe('connect');
    expect(result.error.code).toBe('ENROLL_E_HOST_KEY_CHANGED');
    expect(result.error.message).toContain(pinned);
    expect(result.error.message).toContain(presented);
    expect(result.rolledBack).toEqual([]);
    expect(events.map((e) => `${e.step} ${e.status}`)).toEqual(['connect running', 'connect failed']);
    expectNothingLeft(before);
  }, 60_000);

  it('refuses an unsupported host with the reason and leaves nothing behind', async () => {
    const before = listing(root);
    const { result } = await enroll({ requirements: { minFreeDiskMb: 1e12 } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failedStep).toBe('profile');
    expect(result.error.code).toBe('ENROLL_E_UNSUPPORTED');
    expect(result.error.message).toMatch(/MB are free on .*; the agent needs 1000000000000 MB/);
    expect(result.profile?.os).toBe('Linux');
    expectNothingLeft(before);
  }, 60_000);

  it('refuses a user with neither root, sudo nor a systemd user manager, saying what would do', async () => {
    const before = listing(root);
    const plain = TestSudoUser.create('armory-plain', { sudo: false });
    try {
      const { result } = await enroll({ user: plain.name, auth: { password: plain.password } });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.failedStep).toBe('profile');
      expect(result.error.code).toBe('ENROLL_E_UNSUPPORTED');
      expect(result.error.message).toMatch(/not root, cannot use sudo without a password and has no systemd user manager; log in as root, allow passwordless sudo, or .*enable-linger/);
      expect(result.profile).toMatchObject({ root: false, sudo: false, userSystemd: false, home: `/home/${plain.name}` });
    } finally {
      plain.remove();
    }
    expectNothingLeft(before);
  }, 60_000);

  it('rolls every step back when the agent never answers (its port is taken), leaving the host as it was', async () => {
    const before = listing(root);
    const squatter = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => squatter.listen(agentPort, '127.0.0.1', resolve));
    try {
      const { result, events } = await enroll({ timeouts: { agentStartMs: 4000 } });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.failedStep).toBe('start');
      expect(result.error.code).toBe('ENROLL_E_AGENT_START');
      expect(result.rolledBack).toEqual(['start', 'install', 'certificate', 'upload', 'previous']);
      expect(result.undoFailed).toEqual([]);
      const rollback = events.filter((e) => e.phase === 'rollback' && e.status !== 'running').map((e) => `${e.step} ${e.status}`);
      expect(rollback).toEqual(['start rolled-back', 'install rolled-back', 'certificate rolled-back', 'upload rolled-back', 'previous rolled-back']);

    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    expectNothingLeft(before);
  }, 60_000);

  it('rolls back over a new connection when the SSH connection is killed in the middle of the upload', async () => {
    const before = listing(root);
    let killed = 0;
    const result = await enrollNode(options({ runtime: 'bundled' }), (e) => {
      if (e.step === 'upload' && e.status === 'running' && /MB of/.test(e.detail) && killed === 0) killed = sshd.killSessions();
    });
    expect(killed).toBeGreaterThan(0);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failedStep).toBe('upload');
    expect(result.error.code).toBe('ENROLL_E_CONNECT');
    expect(result.rolledBack).toEqual(['upload', 'previous']);
    expectNothingLeft(before);
  }, 60_000);

  it('rolls back an upload that fills the disk (a small tmpfs at the install folder)', async () => {
    const opt = path.join(root, 'opt');
    fs.mkdirSync(opt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0755', 'tmpfs', opt]);
    mounts.push(opt);
    const before = listing(root);
    const { result } = await enroll({ runtime: 'bundled', requirements: { minFreeDiskMb: 1 } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failedStep).toBe('upload');
    expect(result.error.code).toBe('ENROLL_E_UPLOAD');
    expect(result.rolledBack).toEqual(['upload', 'previous']);
    expectNothingLeft(before);
    expect(fs.readdirSync(opt)).toEqual([]);
  }, 60_000);

  it('puts the earlier installation back and restarts its agent when enrolling again fails', async () => {
    const before = listing(root);
    const first = await enroll({ auth: { keyFile: sshd.agentKey } });
    expectOk(first.result);
    const sleeperPid = await runSleeper();
    const opt = listing(path.join(root, 'opt'));
    const tls = ['ca.pem', 'node.pem', 'node.key'].map((f) => fs.readFileSync(path.join(root, 'var/lib/armory/tls', f), 'utf8'));

    // The second enrollment stops the agent, then loses its connection in the middle of the upload.
    let killed = 0;
    const again = await enrollNode(options({ auth: { keyFile: sshd.agentKey }, runtime: 'bundled' }), (e) => {
      if (e.step === 'upload' && e.status === 'running' && /MB of/.test(e.detail) && killed === 0) killed = sshd.killSessions();
    });
    expect(killed).toBeGreaterThan(0);
    expect(again.ok).toBe(false);
    if (again.ok) return;
    expect(again.failedStep).toBe('upload');
    expect(again.rolledBack).toEqual(['upload', 'previous']);
    expect(again.steps.find((s) => s.step === 'previous')?.rollback?.detail).toMatch(/started the earlier keeper again/);

    // The same files, the same certificate, the earlier agent answering again with the program it had.
    expect(listing(path.join(root, 'opt'))).toEqual(opt);
    expect(['ca.pem', 'node.pem', 'node.key'].map((f) => fs.readFileSync(path.join(root, 'var/lib/armory/tls', f), 'utf8'))).toEqual(tls);
    const status = await waitFor('the earlier agent to answer again', async () => (await agentClient()).call('status'), { timeoutMs: 15_000, everyMs: 200 });
    expect(status.services.find((s) => s.name === 'sleeper')).toMatchObject({ state: 'running', pid: sleeperPid });
    for (const c of clients.splice(0)) c.close();
    expect(readCrontab()?.split('\n').filter((l) => l.includes(path.join(root, 'var/lib/armory'))).length).toBe(1);

    expectOk(await remove({ auth: { keyFile: sshd.agentKey } }));
    await waitFor('the program to be stopped', () => !alive(sleeperPid), { timeoutMs: 5000 });
    expectNothingLeft(before);
  }, 90_000);

  it('says so when the host goes down mid-upload and the rollback cannot reach it; removal cleans up afterwards', async () => {
    let crashed = false;
    const result = await enrollNode(options({ runtime: 'bundled', timeouts: { connectMs: 2000 } }), (e) => {
      if (e.step === 'upload' && e.status === 'running' && /MB of/.test(e.detail) && !crashed) {
        crashed = true;
        sshd.crash();
      }
    });
    expect(crashed).toBe(true);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failedStep).toBe('upload');
    expect(result.undoFailed.map((u) => [u.step, u.error.code])).toEqual([['upload', 'ENROLL_E_CONNECT']]);
    expect(result.steps.find((s) => s.step === 'upload')?.rollback?.ok).toBe(false);
    // The half-uploaded staging folder is still there...
    expect(fs.readdirSync(path.join(root, 'opt')).some((f) => f.startsWith('armory.new-'))).toBe(true);

    // ...until the host is back and the node is removed.
    await sshd.restart();
    expectOk(await remove());
    expect(fs.readdirSync(path.join(root, 'opt'))).toEqual([]);
    expect(processesUnder(root)).toEqual([]);
    expect(readCrontab()).toBe(crontabAtStart);
  }, 90_000);
});

const ARMORY_BIN = path.join(REPO, 'bin/armory.js');
/** The `armory` command line with its own ARMORY_HOME. */
function armoryCli(args: string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ARMORY_BIN, ...args], { env: { ...process.env, ARMORY_HOME: home }, timeout: 120_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? (e.killed ? -1 : typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('armory node add USER@HOST: one step for the user', () => {
  it('refuses an unconfirmed host key, enrolls with --trust, runs what is applied, and removes the node', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-cli-home-'));
    const armory = (args: string[]) => armoryCli(args, home);
    const base = ['node', 'add', `root@127.0.0.1`, '--port', String(sshd.port), '--identity', sshd.agentKey, '--name', 'n1', '--agent-port', String(agentPort), '--install-root', root];
    const unconfirmed = await armory(base);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stdout).toMatch(/host key fingerprint: SHA256:/);
    expect(unconfirmed.stdout).toMatch(/pass --trust SHA256:/);
    expect(fs.readdirSync(root)).toEqual([]);

    const fingerprint = /host key fingerprint: (SHA256:\S+)/.exec(unconfirmed.stdout)?.[1] as string;
    const added = await armory([...base, '--trust', fingerprint]);
    expect(added.stdout).toMatch(/n1: enrolled .*host key SHA256:\S+ pinned/);
    for (const step of ['connect', 'profile', 'upload', 'certificate', 'install', 'start']) expect(added.stdout).toMatch(new RegExp(`${step}\\s+done`));
    expect(added.code).toBe(0);

    const cfg = path.join(home, 'armory.yaml');
    fs.writeFileSync(cfg, 'nodes:\n  n1: { address: 127.0.0.1 }\nservices:\n  s:\n    command: /bin/sleep\n    args: ["1000"]\n    placement: { nodes: [n1] }\n');
    expect((await armory(['apply', cfg])).stdout).toMatch(/ok {3}n1: .*1 started/);
    const status = await armory(['status']);
    expect(status.stdout).toMatch(/n1 \(127\.0\.0\.1\) answers/);

    const removed = await armory(['node', 'rm', 'n1', '--yes', '--identity', sshd.agentKey]);
    expect(removed.stdout).toMatch(/n1: removed/);
    expect(removed.code).toBe(0);
    expect((await armory(['node', 'ls'])).stdout).toMatch(/no nodes enrolled/);
    expect(readCrontab()).toBe(crontabAtStart);
    fs.rmSync(home, { recursive: true, force: true });
  });
});
