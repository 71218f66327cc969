import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, isAlive } from '../../helpers/agent-harness.js';
import { waitFor } from '../../helpers/wait.js';

const ARMORY = path.resolve(import.meta.dirname, '../../../bin/armory.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let home = '';
function armory(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ARMORY, ...args], { env: { ...process.env, ARMORY_HOME: home }, timeout: 30_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
    );
  });
}

afterEach(async () => {
  if (home && fs.existsSync(path.join(home, 'inventory.json'))) {
    const inv = JSON.parse(fs.readFileSync(path.join(home, 'inventory.json'), 'utf8')) as { nodes: Record<string, unknown> };
    if (inv.nodes.local) await armory('node', 'rm', 'local', '--yes');
  }
  if (home) fs.rmSync(home, { recursive: true, force: true });
  home = '';
});

describe('the manager with its local node', () => {
  it('enrolls the local node, applies a signed configuration, gathers its events, and removes it', async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-home-'));
    const port = freePort();
    const add = await armory('node', 'add', 'local', '--agent-port', String(port));
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/local: enrolled/);
    expect(fs.statSync(path.join(home, 'pki/ca.key')).mode & 0o777).toBe(0o600);

    const cfg = path.join(home, 'armory.yaml');
    fs.writeFileSync(cfg, 'services:\n  web:\n    command: /bin/sleep\n    args: ["1000"]\n');
    const dry = await armory('apply', cfg, '--dry-run');
    expect(dry.stdout).toMatch(/\+ service web/);
    expect(fs.existsSync(path.join(home, 'configs/v1.yaml'))).toBe(false);
    const applied = await armory('apply', cfg);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/signed configuration v1/);
    expect(applied.stdout).toMatch(/ok {3}local: .*1 started/);

    const running = await waitFor('web to run on the local node', async () => {
      const s = JSON.parse((await armory('status', '--json')).stdout) as { nodes: { node: string; services: { name: string; state: string; pid: number }[] }[] };
      const web = s.nodes[0]?.services.find((x) => x.name === 'web');
      return web?.state === 'running' ? web : undefined;
    });
    process.kill(running.pid, 'SIGKILL');
    const crash = await waitFor('the crash to reach the manager', async () => {
      const lines = (await armory('events', '--json', '--service', 'web', '--limit', '100')).stdout.trim().split('\n').filter(Boolean);
      return lines.map((l) => JSON.parse(l) as { node: string; reason: string; agentSeq: number }).find((e) => /killed by SIGKILL/.test(e.reason));
    });
    expect(crash.node).toBe('local');
    // Collected once, never twice: agent sequence numbers are unique in the manager's journal.
    const all = (await armory('events', '--json', '--limit', '1000')).stdout.trim().split('\n').map((l) => JSON.parse(l) as { agentSeq: number; node: string });
    const seqs = all.filter((e) => e.node === 'local').map((e) => e.agentSeq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    const future = await armory('events', '--json', '--from', new Date(Date.now() + 3_600_000).toISOString());
    expect(future.stdout.trim()).toBe('');
    const badTime = await armory('events', '--from', 'yesterday-ish');
    expect(badTime.code).toBe(2);

    fs.writeFileSync(cfg, 'services:\n  web:\n    comand: /bin/sleep\n');
    const bad = await armory('apply', cfg);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/:3: services\.web: unknown field: comand/);

    const metrics = await armory('metrics');
    expect(metrics.stdout).toMatch(/armory_service_ready\{node="local",service="web"\} 1/);
    expect(metrics.stdout).toMatch(/armory_service_availability\{node="local",service="web"\} 0\.9\d+|armory_service_availability\{node="local",service="web"\} 1\.0+/);

    const rm = await armory('node', 'rm', 'local');
    expect(rm.code).toBe(2);
    expect(rm.stderr).toMatch(/confirm with --yes/);
    const gone = await armory('node', 'rm', 'local', '--yes');
    expect(gone.code).toBe(0);
    await waitFor('the program to be stopped', () => !isAlive(running.pid));
    expect(fs.existsSync(path.join(home, 'local-agent'))).toBe(false);
    expect((await armory('node', 'ls')).stdout).toMatch(/no nodes enrolled/);
  });
});
