import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { AgentHarness, canConnect, cli, freePort, groupMembers, isAlive } from '../../helpers/agent-harness.js';
import { waitFor } from '../../helpers/wait.js';

const SERVER = path.resolve(import.meta.dirname, '../../fixtures/tcp-server.js');
let h: AgentHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

describe('supervisor with real processes', () => {
  it('restarts a crashed program at once and journals why', async () => {
    const port = freePort();
    h = new AgentHarness(`services:\n  web:\n    command: ${process.execPath}\n    args: ["${SERVER}", "${port}"]\n`);
    await h.start();
    const first = await h.waitService('web', 'running', (s) => s.state === 'running' && s.pid !== null);
    await waitFor('the server to accept', () => canConnect(port));
    process.kill(first.pid as number, 'SIGKILL');
    const second = await h.waitService('web', 'restarted', (s) => s.state === 'running' && s.pid !== first.pid);
    expect(second.restarts).toBe(1);
    expect(second.lastExit).toBe('killed by SIGKILL');
    await waitFor('the new server to accept', () => canConnect(port));
    const crash = (await h.events()).find((e) => e.service === 'web' && e.from === 'running' && e.detail?.exit === 'killed by SIGKILL');
    expect(crash?.reason).toMatch(/restarting per policy/);
  });

  it('backs off a crash loop, then gives up with the reason in status and events', async () => {
    h = new AgentHarness(`services:
  loop:
    command: /bin/sh
    args: ["-c", "echo dying; exit 3"]
    restart: { policy: always, backoff: { initial: 50ms, factor: 2, max: 200ms }, minInterval: 0ms, budget: { restarts: 3, window: 1m }, exhausted: give-up }
  other:
    command: /bin/sleep
    args: ["1000"]
`);
    await h.start();
    const failed = await h.waitService('loop', 'failed', (s) => s.state === 'failed');
    expect(failed.reason).toMatch(/restart budget spent; gave up/);
    expect(failed.lastExit).toBe('exit code 3');
    expect(failed.restarts).toBe(3);
    const events = (await h.events()).filter((e) => e.service === 'loop' && e.kind === 'transition');
    expect(events.some((e) => e.to === 'backing-off')).toBe(true);
    expect(events.at(-1)?.to).toBe('failed');
    expect((await h.service('other')).state).toBe('running');
  });

  it('a clean exit under on-failure is final and not an error', async () => {
    h = new AgentHarness(`services:\n  once:\n    command: /bin/true\n    restart: { policy: on-failure }\n`);
    await h.start();
    const s = await h.waitService('once', 'stopped', (x) => x.state === 'stopped');
    expect(s.reason).toMatch(/exited cleanly/);
    expect(s.restarts).toBe(0);
  });

  it('stops with signal, grace, then SIGKILL to the whole group, grandchildren too', async () => {
    // The shell ignores SIGTERM and starts a child and a grandchild that ignore it as well.
    const script = `trap '' TERM; sh -c "trap '' TERM; sleep 1000 & sleep 1000; wait" & sleep 1000 & wait`;
    h = new AgentHarness(`services:\n  stubborn:\n    command: /bin/sh\n    args: ["-c", ${JSON.stringify(script)}]\n    stop: { grace: 300ms }\n`);
    await h.start();
    const s = await h.waitService('stubborn', 'running', (x) => x.state === 'running');
    const group = await waitFor('the whole process tree', () => {
      const members = groupMembers(s.pid as number);
      return members.length >= 4 ? members : undefined;
    });
    const t0 = Date.now();
    const r = await cli(['stop', 'stubborn', '--state-dir', h.stateDir]);
    expect(r.code).toBe(0);
    const stopped = await h.waitService('stubborn', 'stopped', (x) => x.state === 'stopped');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(stopped.desired).toBe('down');
    await waitFor('every member of the group to be gone', () => group.every((pid) => !isAlive(pid)), { timeoutMs: 3000 });
    const kinds = (await h.events()).filter((e) => e.service === 'stubborn').map((e) => e.reason);
    expect(kinds.some((k) => /SIGKILL/.test(k))).toBe(true);
  });

  it('a manual stop wins over the restart policy, and start brings it back', async () => {
    h = new AgentHarness(`services:\n  s:\n    command: /bin/sleep\n    args: ["1000"]\n`);
    await h.start();
    await h.waitService('s', 'running', (x) => x.state === 'running');
    await cli(['stop', 's', '--state-dir', h.stateDir]);
    await h.waitService('s', 'stopped', (x) => x.state === 'stopped' && x.pid === null);
    await cli(['start', 's', '--state-dir', h.stateDir]);
    await h.waitService('s', 'running again', (x) => x.state === 'running' && x.pid !== null);
  });
});
