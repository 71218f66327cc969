import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Manager } from '../../../../main/core/manager.js';
import { freePort } from '../../../helpers/agent-harness.js';
import { waitFor } from '../../../helpers/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../../../..');
const AGENT_BIN = path.join(ROOT, 'bin/armory-agent.js');

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a node that missed a configuration push', () => {
  it('is sent the last configuration once it answers again, and the journal says so', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-catch-up-'));
    const manager = new Manager({ ARMORY_HOME: home });
    await manager.open();
    cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }));
    cleanups.push(() => manager.close());
    await manager.addLocalNode({ agentPort: freePort(), agentBin: AGENT_BIN });
    cleanups.push(() => manager.removeLocalNode().catch(() => undefined));
    const c = await manager.connect('local');
    const agentPid = (await c.call('status')).agent.pid;
    c.close();
    const keeperPid = manager.node('local').install.keeperPid as number | null;
    const frozen = [agentPid, ...(keeperPid ? [keeperPid] : [])];
    const thaw = () => frozen.forEach((pid) => process.kill(pid, 'SIGCONT'));
    cleanups.push(thaw);

    // The agent does not answer while the configuration is applied: the push to it fails.
    frozen.forEach((pid) => process.kill(pid, 'SIGSTOP'));
    const applied = await manager.apply('services:\n  sleeper:\n    command: /bin/sleep\n    args: ["1000"]\n');
    expect(applied.pushed).toMatchObject([{ node: 'local', ok: false }]);
    thaw();

    // It answers again: the manager's next look at it sends it the configuration it missed.
    await waitFor(
      'the service to run on the node that missed the push',
      async () => (await manager.status()).find((n) => n.node === 'local')?.services.some((s) => s.name === 'sleeper' && s.state === 'running'),
      { timeoutMs: 20_000, everyMs: 250 },
    );
    const journal = manager.readEvents({ node: 'manager' }).map((e) => e.reason);
    expect(journal.some((r) => /node local ran configuration none yet, older than v1 \(it missed that push\): v1 sent now/.test(r))).toBe(true);
  }, 60_000);
});
