import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentHarness, cli } from '../../helpers/agent-harness.js';

let h: AgentHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

const sleeper = (name: string, arg = '1000') => `  ${name}:\n    command: /bin/sleep\n    args: ["${arg}"]\n`;

describe('configuration and reconciliation', () => {
  it('refuses an invalid configuration with every problem and its line, leaving the running set as it was', async () => {
    h = new AgentHarness(`services:\n${sleeper('a')}${sleeper('b')}`);
    await h.start();
    const a = await h.waitService('a', 'running', (s) => s.state === 'running');
    h.writeConfig(`services:\n  a:\n    comand: /bin/sleep\n  b:\n    command: /bin/sleep\n    stop: { grace: 5 seconds }\n`);
    const r = await cli(['reload', '--state-dir', h.stateDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/armory\.yaml:3: services\.a: unknown field: comand/);
    expect(r.stderr).toMatch(/services\.a\.command: required field is missing/);
    expect(r.stderr).toMatch(/armory\.yaml:6: services\.b\.stop\.grace: "5 seconds" is not a duration/);
    expect(r.stderr).toMatch(/CONFIG_E_INVALID/);
    const after = await h.service('a');
    expect(after.pid).toBe(a.pid);
    expect((await h.status()).map((s) => s.name)).toEqual(['a', 'b']);
    expect((await h.events()).some((e) => e.kind === 'config' && /refused/.test(e.reason))).toBe(true);
  });

  it('on reload starts, stops or restarts only what changed', async () => {
    h = new AgentHarness(`services:\n${sleeper('keep')}${sleeper('change')}${sleeper('drop')}`);
    await h.start();
    for (const n of ['keep', 'change', 'drop']) await h.waitService(n, 'running', (s) => s.state === 'running');
    const before = Object.fromEntries((await h.status()).map((s) => [s.name, s.pid]));
    h.writeConfig(`services:\n${sleeper('keep')}${sleeper('change', '2000')}${sleeper('added')}`);
    // The file watcher may apply it first; either way it is applied once, with this summary.
    const r = await cli(['reload', '--state-dir', h.stateDir]);
    expect(r.code).toBe(0);
    const applied = (await h.events()).filter((e) => e.kind === 'config' && /started/.test(e.reason));
    expect(applied).toHaveLength(1);
    expect(applied[0]?.reason).toMatch(/1 started, 1 stopped, 1 restarted, 1 unchanged/);
    await h.waitService('change', 'restarted', (s) => s.state === 'running' && s.pid !== before.change);
    await h.waitService('added', 'running', (s) => s.state === 'running');
    expect((await h.service('keep')).pid).toBe(before.keep);
    expect((await h.status()).map((s) => s.name)).toEqual(['added', 'change', 'keep']);
  });

  it('applies a change of the configuration file on its own', async () => {
    h = new AgentHarness(`services:\n${sleeper('a')}`);
    await h.start();
    await h.waitService('a', 'running', (s) => s.state === 'running');
    h.writeConfig(`services:\n${sleeper('a')}${sleeper('b')}`);
    await h.waitService('b', 'running', (s) => s.state === 'running');
  });

  it('will not start on an invalid configuration when it has no previous one, and says why', async () => {
    h = new AgentHarness(`services:\n  a:\n    command: /bin/sleep\n    restart: { policy: sometimes }\n`);
    await expect(h.start()).rejects.toThrow(/armory\.yaml:4: services\.a\.restart\.policy/);
    expect(h.agent?.exitCode).toBe(2);
  });

  it('validate lists problems without an agent', async () => {
    const dir = fs.mkdtempSync('/tmp/armory-validate-');
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, 'services:\n  web:\n    command: x\n    placement: { nodes: [nowhere] }\n');
    const r = await cli(['validate', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/:4: services\.web\.placement\.nodes\[0\]: unknown node "nowhere"/);
    fs.writeFileSync(file, 'services:\n  web:\n    command: x\n');
    expect((await cli(['validate', '--config', file])).stdout).toMatch(/valid \(1 services\)/);
    fs.rmSync(dir, { recursive: true });
  });
});
