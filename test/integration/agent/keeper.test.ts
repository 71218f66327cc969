import { afterEach, describe, expect, it } from 'vitest';
import { AgentHarness, isAlive } from '../../helpers/agent-harness.js';
import { waitFor } from '../../helpers/wait.js';

let h: AgentHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

describe('the keeper restarts the agent where there is no systemd', () => {
  it('brings a SIGKILLed agent back, which re-adopts the running program', async () => {
    h = new AgentHarness(`services:\n  s:\n    command: /bin/sleep\n    args: ["1000"]\n`);
    await h.start('keeper');
    const before = await h.waitService('s', 'running', (x) => x.state === 'running');
    const firstAgent = h.agentPid();
    await h.killAgent();
    const secondAgent = await waitFor('a new agent', () => {
      try {
        const pid = h!.agentPid();
        return pid !== firstAgent && isAlive(pid) ? pid : undefined;
      } catch {
        return undefined;
      }
    });
    expect(secondAgent).not.toBe(firstAgent);
    const after = await h.waitService('s', 're-adopted', (x) => x.reason.includes('re-adopted'), 5000);
    expect(after.pid).toBe(before.pid);
    expect(h.agentOutput).toMatch(/keeper: agent died \(SIGKILL\); restarting/);
  });

  it('ends with the agent after an orderly shutdown', async () => {
    h = new AgentHarness(`services:\n  s:\n    command: /bin/sleep\n    args: ["1000"]\n`);
    await h.start('keeper');
    const s = await h.waitService('s', 'running', (x) => x.state === 'running');
    await h.dispose();
    await waitFor('the keeper to exit', () => h?.agent?.exitCode === 0);
    expect(isAlive(s.pid as number)).toBe(false);
    h = undefined;
  });
});
