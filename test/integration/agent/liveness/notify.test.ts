import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentHarness, freePort } from '../../../helpers/agent-harness.js';
import { waitFor } from '../../../helpers/wait.js';

const REDIS = '/usr/bin/redis-server';
let h: AgentHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

function systemdNotify(socket: string, ...args: string[]): Promise<{ code: number; ms: number; stderr: string }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile('systemd-notify', args, { env: { ...process.env, NOTIFY_SOCKET: socket }, timeout: 10_000 }, (e, _out, stderr) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, ms: Date.now() - t0, stderr }),
    );
  });
}

describe('systemd notify protocol with the real systemd-notify', () => {
  it('READY=1 makes the program ready, STATUS= shows in status, and WATCHDOG=1 keeps it alive', async () => {
    // Slow enough to start that the first status call sees it starting even on a loaded machine.
    const script = 'sleep 0.5; systemd-notify --status="warming up"; sleep 1.5; systemd-notify --ready --status="serving"; while :; do systemd-notify WATCHDOG=1 || echo NOTIFY-FAILED; sleep 0.1; done';
    h = new AgentHarness(`services:\n  n:\n    command: /bin/sh\n    args: ["-c", ${JSON.stringify(script)}]\n    notify: true\n    watchdog: 1s\n`);
    await h.start();
    const early = await h.service('n');
    expect(early.state).toBe('starting');
    expect(early.ready).toBe(false);
    const ready = await h.waitService('n', 'ready', (s) => s.state === 'running' && s.ready);
    expect(ready.statusText).toBe('serving');
    expect(ready.reason).toBe('program is ready');
    // Watchdog pings keep it running well past its 1 s watchdog; each systemd-notify returns at once.
    await new Promise((r) => setTimeout(r, 1500));
    const later = await h.service('n');
    expect(later.pid).toBe(ready.pid);
    expect(later.restarts).toBe(0);
    expect(fs.readFileSync(path.join(h.stateDir, 'logs/n.log'), 'utf8')).not.toMatch(/NOTIFY-FAILED|Failed to invoke barrier/);
  });

  it('a SIGSTOPped program that stops sending WATCHDOG=1 is restarted after its watchdog timeout (SIGCONT first)', async () => {
    const script = 'systemd-notify --ready; while :; do systemd-notify WATCHDOG=1; sleep 0.1; done';
    h = new AgentHarness(`services:\n  w:\n    command: /bin/sh\n    args: ["-c", ${JSON.stringify(script)}]\n    notify: true\n    watchdog: 700ms\n`);
    await h.start();
    const first = await h.waitService('w', 'ready', (s) => s.state === 'running' && s.ready);
    const t0 = Date.now();
    process.kill(first.pid as number, 'SIGSTOP');
    const second = await h.waitService('w', 'restarted', (s) => s.pid !== first.pid && s.pid !== null, 5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    expect(second.restarts).toBe(1);
    const events = await h.events();
    expect(events.some((e) => e.kind === 'liveness' && /no WATCHDOG=1 for \d+ms \(watchdog 700ms\)/.test(e.reason))).toBe(true);
    // WATCHDOG_USEC and WATCHDOG_PID were given to the program itself.
    const env = fs.readFileSync(`/proc/${second.pid}/environ`, 'utf8').split('\0');
    expect(env).toContain('WATCHDOG_USEC=700000');
    expect(env).toContain(`WATCHDOG_PID=${second.pid}`);
  });

  it('ignores messages from outside the service\'s process group, and refuses oversized ones', async () => {
    const big = 'x'.repeat(5000);
    const script = `sleep 0.3; systemd-notify "STATUS=${big}"; sleep 1.5; systemd-notify --ready; exec sleep 1000`;
    h = new AgentHarness(`services:\n  g:\n    command: /bin/sh\n    args: ["-c", ${JSON.stringify(script)}]\n    notify: true\n`);
    await h.start();
    const socket = path.join(h.stateDir, 'notify/g.sock');
    expect(fs.statSync(socket).mode & 0o777).toBe(0o600);
    // A stranger (this test process's child) claims readiness: ignored, and it is not kept waiting.
    const stranger = await systemdNotify(socket, '--ready');
    expect(stranger.code).toBe(0);
    expect(stranger.ms).toBeLessThan(2000);
    expect((await h.service('g')).ready).toBe(false);
    await h.waitService('g', 'ready from its own READY=1', (s) => s.ready, 10_000);
    const events = (await h.events()).filter((e) => e.kind === 'liveness');
    expect(events.some((e) => /notify message ignored: sender pid \d+ is outside the service's process group/.test(e.reason))).toBe(true);
    expect(events.some((e) => /notify message ignored: datagram larger than 4096 bytes/.test(e.reason))).toBe(true);
  });
});

describe.skipIf(!fs.existsSync(REDIS))('a real third-party daemon that speaks the notify protocol (redis-server --supervised systemd)', () => {
  it('is ready only when redis says READY=1', async () => {
    const port = freePort();
    h = new AgentHarness(`services:
  cache:
    command: ${REDIS}
    args: ["--port", "${port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--supervised", "systemd"]
    cwd: /tmp
    notify: true
    startTimeout: 10s
`);
    await h.start();
    const s = await h.waitService('cache', 'ready', (x) => x.state === 'running' && x.ready);
    expect(s.reason).toBe('program is ready');
    expect(s.statusText).toMatch(/Ready to accept connections/);
    const ready = (await h.events()).find((e) => e.service === 'cache' && e.to === 'running');
    expect(ready?.reason).toBe('program is ready');
    await waitFor('no ignored notify messages', async () => !(await h!.events()).some((e) => /ignored/.test(e.reason)), { timeoutMs: 500 }).catch(() => {
      throw new Error('a notify message from redis itself was ignored');
    });
  });
});

describe('MAINPID: a program that forks its real main process', () => {
  it('is followed to its main process when the started one exits, and restarted when that one dies', async () => {
    const script = 'sleep 1000 & systemd-notify --ready "MAINPID=$!"; exit 0';
    h = new AgentHarness(`services:\n  forker:\n    command: /bin/sh\n    args: ["-c", ${JSON.stringify(script)}]\n    notify: true\n`);
    await h.start();
    const first = await h.waitService('forker', 'following its main process', (s) => s.state === 'running' && s.ready && s.restarts === 0 && s.pid !== null && fs.readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').startsWith('sleep'));
    const events = await h.events();
    expect(events.some((e) => /following the main process \d+/.test(e.reason))).toBe(true);
    process.kill(first.pid as number, 'SIGKILL');
    const second = await h.waitService('forker', 'restarted', (s) => s.restarts === 1 && s.state === 'running' && s.pid !== first.pid);
    expect(second.lastExit).toMatch(/ended/);
  });
});
