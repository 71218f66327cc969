import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentHarness, cli } from '../../helpers/agent-harness.js';
import { waitFor } from '../../helpers/wait.js';

let h: AgentHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

describe('stdout/stderr capture', () => {
  it('keeps both streams in a size-bounded rotating log, shown by `logs`', async () => {
    // 400 lines of ~100 bytes = ~40 KB through a 8 KB log with 2 rotations kept.
    const script = 'pad=$(printf %080d 0); i=0; while [ $i -lt 400 ]; do echo "line $i $pad"; i=$((i+1)); done; echo oops >&2; exec sleep 1000';
    h = new AgentHarness(`services:\n  chatty:\n    command: /bin/sh\n    args: ["-c", ${JSON.stringify(script)}]\n    logs: { maxSize: 8KB, keep: 2 }\n`);
    await h.start();
    await h.waitService('chatty', 'running', (s) => s.state === 'running');
    const r = await waitFor('the last lines in the log', async () => {
      const out = await cli(['logs', 'chatty', '--lines', '5', '--state-dir', h!.stateDir]);
      return out.stdout.includes('err| oops') ? out : undefined;
    });
    expect(r.stdout).toMatch(/out\| line 399 /);
    const files = fs.readdirSync(path.join(h.stateDir, 'logs')).filter((f) => f.startsWith('chatty.log')).sort();
    expect(files).toEqual(['chatty.log', 'chatty.log.1', 'chatty.log.2']);
    for (const f of files) expect(fs.statSync(path.join(h.stateDir, 'logs', f)).size).toBeLessThanOrEqual(8 * 1024);
    const unknown = await cli(['logs', 'nope', '--state-dir', h.stateDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/AGENT_E_UNKNOWN_SERVICE/);
  });

  it('loses no output written while the agent was down', async () => {
    // The program writes its ticks only once the agent is dead (a flag file says so), so that each of
    // them is written while no agent reads the pipe. (A line the agent had read in the instant it was
    // SIGKILLed, between its read and its write, is gone with it: no pipe can give it back.)
    const flag = path.join(fs.mkdtempSync('/tmp/armory-logs-'), 'agent-dead');
    const script = `echo before; while [ ! -e ${flag} ]; do sleep 0.02; done; i=0; while [ $i -lt 30 ]; do echo "tick $i"; i=$((i+1)); done; exec sleep 1000`;
    h = new AgentHarness(`services:\n  ticker:\n    command: /bin/sh\n    args: ["-c", ${JSON.stringify(script)}]\n`);
    await h.start();
    await h.waitService('ticker', 'running', (s) => s.state === 'running');
    await waitFor('the first line in the log', async () => (await cli(['logs', 'ticker', '--state-dir', h!.stateDir])).stdout.includes('out| before'));
    await h.killAgent();
    fs.writeFileSync(flag, '');
    // The ticks wait in the pipe meanwhile.
    await new Promise((r) => setTimeout(r, 800));
    await h.start();
    const out = await waitFor('every tick', async () => {
      const r = await cli(['logs', 'ticker', '--lines', '100', '--state-dir', h!.stateDir]);
      return r.stdout.includes('tick 29') ? r.stdout : undefined;
    });
    for (let i = 0; i < 30; i += 1) expect(out).toContain(`tick ${i}\n`);
    fs.rmSync(path.dirname(flag), { recursive: true, force: true });
  });
});
