import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort, TestSshd } from '../../../helpers/sshd-server.js';

const ARMORY = path.resolve(import.meta.dirname, '../../../../bin/armory.js');
let sshd: TestSshd;
let home = '';
let root = '';

function armory(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ARMORY, ...args], { env: { ...process.env, ARMORY_HOME: home, ...env }, timeout: 120_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  sshd = await TestSshd.start();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-cli-home-'));
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-cli-root-'));
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  for (const d of [home, root]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

describe('armory node add USER@HOST: one step for the user', () => {
  it('refuses an unconfirmed host key, enrolls with --trust, runs what is applied, and removes the node', async () => {
    const agentPort = await freeTcpPort();
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
  });
});
