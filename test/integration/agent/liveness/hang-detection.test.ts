import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentHarness, freePort, isAlive } from '../../../helpers/agent-harness.js';
import { waitFor } from '../../../helpers/wait.js';

const HTTP_SERVER = path.resolve(import.meta.dirname, '../../../fixtures/http-server.js');
let h: AgentHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

function get(port: number, urlPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('liveness: hung programs are detected and restarted like crashes', () => {
  it('a SIGSTOPped program whose heartbeat file stops advancing is restarted after its timeout', async () => {
    const beat = path.join('/tmp', `armory-beat-${process.pid}-${Date.now()}`);
    const script = `while :; do touch ${beat}; sleep 0.05; done`;
    h = new AgentHarness(`services:\n  beater:\n    command: /bin/sh\n    args: ["-c", "${script}"]\n    heartbeat: { file: ${beat}, timeout: 400ms }\n`);
    await h.start();
    const first = await h.waitService('beater', 'running', (s) => s.state === 'running');
    await new Promise((r) => setTimeout(r, 600));
    expect((await h.service('beater')).pid).toBe(first.pid);
    const t0 = Date.now();
    process.kill(first.pid as number, 'SIGSTOP');
    const second = await h.waitService('beater', 'restarted', (s) => s.state === 'running' && s.pid !== first.pid, 5000);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(350);
    expect(second.restarts).toBe(1);
    await waitFor('the stopped program to be gone', () => !isAlive(first.pid as number));
    const hang = (await h.events()).find((e) => e.kind === 'liveness' && /hang detected/.test(e.reason));
    expect(hang?.reason).toMatch(/heartbeat file .* not touched for \d+ms \(timeout 400ms\)/);
  });

  it('a program that stops answering its HTTP probe is restarted after the failure threshold; ready only after the probe passes', async () => {
    const port = freePort();
    h = new AgentHarness(`services:
  api:
    command: ${process.execPath}
    args: ["${HTTP_SERVER}", "${port}", "2000"]
    probes:
      - { http: "http://127.0.0.1:${port}/health", interval: 100ms, timeout: 200ms, failures: 3, body: "ok" }
`);
    await h.start();
    // Alive but not yet listening: starting, not ready.
    const early = await h.waitService('api', 'starting', (s) => s.pid !== null);
    expect(early.state).toBe('starting');
    expect(early.ready).toBe(false);
    // A Node program's start-up can take seconds on a loaded machine.
    const ready = await h.waitService('api', 'ready', (s) => s.state === 'running' && s.ready, 30_000);
    expect(await get(port, '/hang')).toBe(200);
    const restarted = await h.waitService('api', 'restarted', (s) => s.pid !== ready.pid && s.pid !== null, 10_000);
    expect(restarted.restarts).toBe(1);
    const hang = (await h.events()).find((e) => e.kind === 'liveness' && /hang detected/.test(e.reason));
    expect(hang?.reason).toMatch(/probe http .*\/health failed 3\/3: .*no answer within 200ms/);
    await h.waitService('api', 'ready again', (s) => s.state === 'running' && s.ready, 10_000);
  });

  it('a program never ready within its start timeout is handled by the restart policy', async () => {
    const port = freePort();
    h = new AgentHarness(`services:
  never:
    command: /bin/sleep
    args: ["1000"]
    startTimeout: 300ms
    probes: [ { tcp: "127.0.0.1:${port}", interval: 50ms, timeout: 100ms } ]
    restart: { budget: { restarts: 1, window: 1m }, exhausted: give-up, minInterval: 0ms, backoff: { initial: 50ms } }
`);
    await h.start();
    const failed = await h.waitService('never', 'failed', (s) => s.state === 'failed', 10_000);
    expect(failed.reason).toMatch(/did not become ready within its start timeout/);
    expect(failed.reason).toMatch(/restart budget spent/);
  });

  it('a heartbeat in a missing folder is reported in status, and the agent goes on', async () => {
    h = new AgentHarness(`services:
  lost:
    command: /bin/sleep
    args: ["1000"]
    heartbeat: { file: /nonexistent-armory-dir/beat, timeout: 1s }
  fine:
    command: /bin/sleep
    args: ["1000"]
`);
    await h.start();
    const s = await h.waitService('lost', 'hung', (x) => x.restarts >= 1, 10_000);
    expect(s.restarts).toBeGreaterThanOrEqual(1);
    const hang = (await h.events()).find((e) => e.kind === 'liveness' && /hang detected/.test(e.reason));
    expect(hang?.reason).toMatch(/heartbeat folder \/nonexistent-armory-dir does not exist/);
    expect((await h.service('fine')).state).toBe('running');
  });
});
