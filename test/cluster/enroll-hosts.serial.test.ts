import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Manager } from '../../main/core/manager.js';
import { enrollRemoteNode, removeRemoteNode } from '../../main/core/remote-nodes.js';
import type { ProgressEvent } from '../../main/core/enrollment/step-runner.js';
import type { EnrollmentResult } from '../../main/core/enrollment/enroll-node.js';
import { isAlive } from '../helpers/agent-harness.js';
import { TestNetwork } from '../helpers/netns.js';
import { TestSshd, TestSudoUser } from '../helpers/sshd-server.js';
import { readCrontab, restoreCrontab } from '../helpers/crontab.js';
import { waitFor } from '../helpers/wait.js';

// Serial: enrollment writes root's crontab (the test hosts share this machine's filesystem).

const REPO = path.resolve(import.meta.dirname, '../..');
const net = new TestNetwork();
const sshd: Record<string, TestSshd> = {};
let sudoUser: TestSudoUser;
let home = '';
let manager: Manager;
let crontabAtStart: string | null = null;

/** Each test host installs under a root of its own: /opt, /var/lib and /etc of the "host". */
const installRoot = (host: string) => path.join(home, 'hosts', host);

function expectOk(r: EnrollmentResult | { ok: boolean }): void {
  if (!r.ok && 'failedStep' in r) throw new Error(`failed at ${r.failedStep}: ${r.error.message} [${r.error.code}]`);
  expect(r.ok).toBe(true);
}

beforeAll(async () => {
  crontabAtStart = readCrontab();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-hosts-'));
  net.up(['h1', 'h2']);
  for (const h of net.hosts) {
    fs.mkdirSync(installRoot(h.name), { recursive: true });
    sshd[h.name] = await TestSshd.start({ netns: h.netns, address: h.address });
  }
  sudoUser = TestSudoUser.create('armory-hosts');
  manager = new Manager({ ARMORY_HOME: path.join(home, 'manager') });
  await manager.open();
}, 60_000);

afterAll(async () => {
  manager?.close();
  for (const s of Object.values(sshd)) await s.stop();
  // Kills whatever still runs in the hosts (keepers, agents, programs) and removes the namespaces.
  net.down();
  sudoUser?.remove();
  restoreCrontab(crontabAtStart);
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

describe('enrollment onto test hosts, each with its own sshd (network namespaces on a bridge)', () => {
  it('enrolls one host by key and one by password, runs a configuration on both, and brings a crash to the manager', async () => {
    const h1 = net.host('h1');
    const h2 = net.host('h2');
    const steps: ProgressEvent[] = [];
    const byKey = await enrollRemoteNode(
      manager,
      { node: 'h1', host: h1.address, user: 'root', auth: { keyFile: sshd.h1!.clientKey, passphrase: sshd.h1!.clientKeyPassphrase }, trust: sshd.h1!.hostKeyFingerprint, installRoot: installRoot('h1') },
      { bundleDir: REPO },
      (e) => steps.push(e),
    );
    expectOk(byKey);
    expect(steps.filter((e) => e.status === 'done').map((e) => e.step)).toEqual(['connect', 'profile', 'previous', 'upload', 'certificate', 'install', 'start']);
    const byPassword = await enrollRemoteNode(
      manager,
      { node: 'h2', host: h2.address, user: sudoUser.name, auth: { password: sudoUser.password }, trust: sshd.h2!.hostKeyFingerprint, installRoot: installRoot('h2') },
      { bundleDir: REPO, runtime: 'bundled' },
      () => undefined,
    );
    expectOk(byPassword);

    // The inventory pins each host's own key and keeps its profile; each agent answers at its host's address.
    const nodes = manager.inventory.data.nodes;
    expect(nodes.h1).toMatchObject({ address: h1.address, hostKey: sshd.h1!.hostKeyFingerprint, sshUser: 'root' });
    expect(nodes.h2).toMatchObject({ address: h2.address, hostKey: sshd.h2!.hostKeyFingerprint, sshUser: sudoUser.name });
    if (byPassword.ok) expect(byPassword.profile.interfaces.some((i) => i.name === 'eth0' && i.addresses.some((a) => a.startsWith(h2.address)))).toBe(true);
    expect(nodes.h2?.profile).toMatchObject({ arch: 'x64', sudo: true });

    const applied = await manager.apply(`nodes:
  h1: { address: ${h1.address} }
  h2: { address: ${h2.address} }
services:
  one: { command: /bin/sleep, args: ["1000"], placement: { nodes: [h1] } }
  two: { command: /bin/sleep, args: ["1000"], placement: { nodes: [h2] } }
`);
    expect(applied.pushed.map((p) => [p.node, p.ok])).toEqual([
      ['h1', true],
      ['h2', true],
    ]);
    const status = await waitFor('a program to run on each host', async () => {
      const s = await manager.status();
      return s.every((n) => n.reachable && n.services[0]?.state === 'running') ? s : undefined;
    });
    const pid = status.find((n) => n.node === 'h1')?.services[0]?.pid as number;
    // The program really runs inside h1's namespace.
    expect(spawnSync('ip', ['netns', 'pids', h1.netns], { encoding: 'utf8' }).stdout.split('\n')).toContain(String(pid));
    process.kill(pid, 'SIGKILL');
    await waitFor('the crash to reach the manager', async () => {
      await manager.collectEvents('h1');
      return manager.readEvents({ node: 'h1', service: 'one' }).some((e) => /killed by SIGKILL/.test(e.reason));
    });
  }, 120_000);

  it('removes a node over SSH and leaves its host as it was', async () => {
    const status = await manager.status();
    const pid = status.find((n) => n.node === 'h2')?.services[0]?.pid as number;
    expect(isAlive(pid)).toBe(true);
    expectOk(await removeRemoteNode(manager, { node: 'h2', auth: { password: sudoUser.password } }, () => undefined));
    expect(manager.inventory.data.nodes.h2).toBeUndefined();
    await waitFor('the program to be stopped', () => !isAlive(pid), { timeoutMs: 10_000 });
    expect(spawnSync('ip', ['netns', 'pids', net.host('h2').netns], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).length).toBe(1); // only its sshd
    expect(fs.readdirSync(installRoot('h2'))).toEqual([]);
    expect(readCrontab() ?? '').not.toContain(installRoot('h2'));
  }, 60_000);

  it('refuses a host whose key changed (an impostor at its address) and changes nothing', async () => {
    const h1 = net.host('h1');
    const impostor = await sshd.h1!.rotateHostKey();
    const r = await removeRemoteNode(manager, { node: 'h1', auth: { keyFile: sshd.h1!.clientKey, passphrase: sshd.h1!.clientKeyPassphrase } }, () => undefined);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('ENROLL_E_HOST_KEY_CHANGED');
      expect(r.error.message).toContain(impostor);
    }
    const again = await enrollRemoteNode(
      manager,
      { node: 'h1', host: h1.address, user: 'root', auth: { keyFile: sshd.h1!.clientKey, passphrase: sshd.h1!.clientKeyPassphrase }, trust: impostor, installRoot: installRoot('h1') },
      { bundleDir: REPO },
      () => undefined,
    );
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.error.code).toBe('ENROLL_E_HOST_KEY_CHANGED');
    // The node, its pin and its agent are as they were.
    expect(manager.inventory.data.nodes.h1?.hostKey).not.toBe(impostor);
    expect((await manager.status()).find((n) => n.node === 'h1')?.reachable).toBe(true);
  }, 60_000);
});
