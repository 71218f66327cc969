import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../../../../../common/wire/drill.js';
import { freePort } from '../../../../helpers/agent-harness.js';
import { waitFor } from '../../../../helpers/wait.js';

const ARMORY = path.resolve(import.meta.dirname, '../../../../../bin/armory.js');
const TCP_SERVER = path.resolve(import.meta.dirname, '../../../../fixtures/tcp-server.js');

let home = '';
let port = 0;

function armory(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ARMORY, ...args], { env: { ...process.env, ARMORY_HOME: home }, timeout: 90_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function webPid(): Promise<number> {
  return waitFor('web to run and be ready', async () => {
    const s = JSON.parse((await armory('status', '--json')).stdout) as { nodes: { services: { name: string; state: string; ready: boolean; pid: number }[] }[] };
    const web = s.nodes[0]?.services.find((x) => x.name === 'web');
    return web?.state === 'running' && web.ready ? web.pid : undefined;
  });
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-drill-'));
  port = freePort();
  expect((await armory('node', 'add', 'local', '--agent-port', String(freePort()))).code).toBe(0);
  // A TCP server that answers each connection with its pid and a newline: the probe expects the
  // newline, so a stopped server (whose socket still accepts) fails it.
  const cfg = path.join(home, 'armory.yaml');
  fs.writeFileSync(
    cfg,
    `services:
  web:
    command: ${process.execPath}
    args: ["${TCP_SERVER}", "${port}"]
    stop: { grace: 1s }
    probes: [{ tcp: "127.0.0.1:${port}", expect: "\\n", interval: 100ms, timeout: 100ms, failures: 3 }]
`,
  );
  expect((await armory('apply', cfg)).code).toBe(0);
  await webPid();
}, 60_000);

afterAll(async () => {
  if (home && fs.existsSync(path.join(home, 'local-agent'))) await armory('node', 'rm', 'local', '--yes');
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

describe('armory drill on the local node (a real agent, no standby)', () => {
  it('refuses without a standby, and refuses unknown services and faults, with their codes', async () => {
    const r = await armory('drill', 'web', '--fault', 'kill');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no failover group.*--force.*\[DRILL_E_NO_STANDBY\]/s);
    expect((await armory('drill', 'nope', '--fault', 'kill', '--force')).stderr).toMatch(/DRILL_E_UNKNOWN_SERVICE/);
    expect((await armory('drill', 'web', '--fault', 'unplug', '--force')).stderr).toMatch(/DRILL_E_UNKNOWN_FAULT/);
    expect((await armory('drill', 'web', '--fault', 'kill', '--duration', 'forever')).code).toBe(2);
  });

  it('kill --force: the program is killed, restarted where it was, and the report measures it', async () => {
    const before = await webPid();
    const r = await armory('drill', 'web', '--fault', 'kill', '--force', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report).toMatchObject({ service: 'web', fault: 'kill', forced: true, nodeBefore: 'local', nodeAfter: 'local', verdict: 'no-budget', budget: null, probe: { target: `127.0.0.1:${port}` } });
    expect(report.detectionMs).not.toBeNull();
    expect(report.recoveryMs).not.toBeNull();
    expect(report.recoveryMs as number).toBeGreaterThanOrEqual(report.detectionMs as number);
    expect(report.failedProbes).toBeGreaterThan(0);
    expect(report.outageMs).toBeGreaterThan(0);
    expect(report.events.some((e) => e.role === 'detection' && /SIGKILL/.test(e.reason))).toBe(true);
    expect(await webPid()).not.toBe(before);

    const list = await armory('drill', '--list');
    expect(list.stdout).toContain(report.id);
    const show = await armory('drill', '--show', report.id);
    expect(show.stdout).toMatch(/detection +\d+ ms/);
    expect(show.stdout).toMatch(/\[recovery\] local: transition/);
    expect((await armory('drill', '--show', 'no-such-id')).stderr).toMatch(/DRILL_E_UNKNOWN_REPORT/);
  }, 90_000);

  it('hang --force: the program is stopped, liveness restarts it, and nothing is left stopped', async () => {
    const before = await webPid();
    const r = await armory('drill', 'web', '--fault', 'hang', '--duration', '2s', '--force', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report).toMatchObject({ fault: 'hang', nodeAfter: 'local' });
    expect(report.events.some((e) => e.role === 'detection' && /hang detected/.test(e.reason))).toBe(true);
    expect(report.recoveryMs).not.toBeNull();
    // The drill asks what the probe asks: the stopped server accepted connections and said nothing,
    // so the outage runs from the hang (not only from the restart that ended it) past detection.
    expect(report.failedProbes).toBeGreaterThan(0);
    expect(report.outageMs).toBeGreaterThanOrEqual(report.detectionMs as number);
    console.log("DBG", JSON.stringify({ d: report.detectionMs, r: report.recoveryMs, o: report.outageMs, f: report.failedProbes, t: report.totalProbes }));
    const after = await webPid();
    expect(after).not.toBe(before);
    expect(fs.readFileSync(`/proc/${after}/stat`, 'utf8').split(') ')[1]?.[0]).not.toBe('T');
  }, 90_000);
});
