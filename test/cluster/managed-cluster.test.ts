import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Manager } from '../../main/core/manager.js';
import { isAlive } from '../helpers/agent-harness.js';
import { ManagedHosts } from '../helpers/cluster-agents.js';
import { waitFor } from '../helpers/wait.js';

const hosts = new ManagedHosts('cluster', ['h1', 'h2']);
const net = hosts.net;
let home = '';
let manager: Manager;

beforeAll(async () => {
  await hosts.up();
  ({ home, manager } = hosts);
}, 60_000);

afterAll(() => hosts.down());

const config = (arg: string) => `nodes:
  h1: { address: ${net.host('h1').address} }
  h2: { address: ${net.host('h2').address} }
services:
  one:
    command: /bin/sleep
    args: ["${arg}"]
    placement: { nodes: [h1, h2] }
  two:
    command: /bin/sleep
    args: ["${arg}"]
    placement: { nodes: [h2, h1] }
`;

describe('a managed cluster on test hosts (network namespaces on a bridge)', () => {
  it('pushes a signed configuration to every node; each runs what is placed on it; a crash reaches the manager', async () => {
    const r = await manager.apply(config('1000'));
    expect(r.version).toBe(1);
    expect(r.pushed.every((p) => p.ok)).toBe(true);
    const status = await waitFor('both services to run', async () => {
      const s = await manager.status();
      const ok = s.every((n) => n.reachable && n.services.length === 1 && n.services[0]?.state === 'running');
      return ok ? s : undefined;
    });
    const h1 = status.find((n) => n.node === 'h1');
    expect(h1?.services.map((s) => s.name)).toEqual(['one']);
    expect(status.find((n) => n.node === 'h2')?.services.map((s) => s.name)).toEqual(['two']);

    const pid = h1?.services[0]?.pid as number;
    process.kill(pid, 'SIGKILL');
    await waitFor('the crash to reach the manager', async () => {
      await manager.collectEvents('h1');
      return manager.readEvents({ node: 'h1', service: 'one' }).some((e) => /killed by SIGKILL/.test(e.reason));
    });
  });

  it('collects events across a cut link with no gap and no duplicate', async () => {
    await manager.collectEvents('h2');
    net.link('h2', 'down');
    const cut = await manager.status();
    expect(cut.find((n) => n.node === 'h2')?.reachable).toBe(false);
    // The agent goes on alone: its program crashes and is restarted while the manager cannot see it.
    const statusFile = fs.readdirSync(path.join(home, 'hosts/h2/var-lib-armory'));
    expect(statusFile).toContain('state.json');
    const state = JSON.parse(fs.readFileSync(path.join(home, 'hosts/h2/var-lib-armory/state.json'), 'utf8')) as { services: Record<string, { pid: number }> };
    const pid = state.services.two?.pid as number;
    process.kill(pid, 'SIGKILL');
    await waitFor('the program to be restarted without the manager', () => {
      const s = JSON.parse(fs.readFileSync(path.join(home, 'hosts/h2/var-lib-armory/state.json'), 'utf8')) as { services: Record<string, { pid: number }> };
      return s.services.two?.pid !== pid && isAlive(s.services.two?.pid as number);
    });
    net.link('h2', 'up');
    await waitFor('h2 to answer again', async () => (await manager.status()).find((n) => n.node === 'h2')?.reachable);
    await manager.collectEvents('h2');
    const seqs = manager.readEvents({ node: 'h2' }).map((e) => e.agentSeq);
    expect(seqs.length).toBeGreaterThan(3);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_v, i) => (seqs[0] as number) + i));
    expect(manager.readEvents({ node: 'h2', service: 'two' }).some((e) => /killed by SIGKILL/.test(e.reason))).toBe(true);
  });

  it('an agent refuses a configuration signed by another manager', async () => {
    const other = new Manager({ ARMORY_HOME: path.join(home, 'other-manager') });
    await other.open();
    await other.inventory.update((d) => (d.nodes.h1 = { ...(manager.inventory.data.nodes.h1 as NonNullable<typeof d.nodes.h1>) }));
    const r = await other.apply(config('3000'));
    expect(r.pushed[0]?.ok).toBe(false);
    expect(r.pushed[0]?.message).toMatch(/AGENT_E_UNREACHABLE|certificate/);
    other.close();
  });
});
