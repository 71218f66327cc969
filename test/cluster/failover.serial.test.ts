import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Manager } from '../../main/core/manager.js';
import { agentDir, agentPid, standUpAgent } from '../helpers/cluster-agents.js';
import { TestNetwork } from '../helpers/netns.js';
import { VipClient } from '../helpers/vip-client.js';
import { VipSampler } from '../helpers/vip-sampler.js';
import { waitFor } from '../helpers/wait.js';
import { isAlive } from '../helpers/agent-harness.js';

const SERVER = path.resolve(import.meta.dirname, '../fixtures/any-address-server.js');
const MEMBERS = ['h1', 'h2', 'h3'] as const;
const net = new TestNetwork();
const VIP = `${net.subnet}.100`;
let home = '';
let manager: Manager;
let sampler: VipSampler;
let client: VipClient;
const keepers = new Map<string, ChildProcess>();

/** The service's command: by default the server; `crashOn` makes it exit at once on that host. */
const command = (crashOn?: string) =>
  crashOn === undefined
    ? `command: ${process.execPath}
    args: ["${SERVER}", "8080"]`
    : `command: /bin/sh
    args: ["-c", "if ip -o -4 addr show dev eth0 | grep -q ' ${net.host(crashOn).address}/'; then exit 1; fi; exec ${process.execPath} ${SERVER} 8080"]
    restart: { budget: { restarts: 2, window: 1m }, backoff: { initial: 50ms } }`;

const config = (crashOn?: string) => `nodes:
${MEMBERS.map((h) => `  ${h}: { address: ${net.host(h).address} }`).join('\n')}
services:
  web:
    ${command(crashOn)}
    stop: { grace: 1s }
    placement: { nodes: [h1, h2, h3] }
    vip: { address: ${VIP}/24, interface: eth0 }
  bystander:
    command: /bin/sleep
    args: ["36000"]
    placement: { nodes: [h1, h2, h3], mode: all }
groups:
  g:
    members: [{ node: h1, priority: 200 }, { node: h2, priority: 150 }, { node: h3, priority: 100 }]
    services: [web]
`;

/** The one host holding the VIP, once there is exactly one and the client gets answers through it. */
async function settledHolder(timeoutMs = 15_000): Promise<string> {
  return waitFor(
    'exactly one holder of the VIP, answering the client',
    () => {
      const h = sampler.holders();
      const last = client.latest();
      if (h.length === 1 && last?.pid != null && Date.now() - last.t < 200) return h[0];
      throw new Error(`holders [${h.join(', ')}], client's latest attempt ${JSON.stringify(last)}`);
    },
    { timeoutMs },
  );
}

async function groupsSeenBy(node: string) {
  const c = await manager.connect(node);
  try {
    return (await c.call('failover.status')).groups;
  } finally {
    c.close();
  }
}

function programPid(host: string, service = 'web'): number {
  const s = JSON.parse(fs.readFileSync(path.join(agentDir(home, host), 'state.json'), 'utf8')) as { services: Record<string, { pid: number | null }> };
  return s.services[service]?.pid as number;
}

/** Waits for another host to hold the VIP after a fault at `from`, and checks the old one had let go first. */
async function handedOver(active: string, from: number): Promise<string> {
  // From the sampler's own record, so that the new holder's first sample is in it.
  const next = await waitFor('another holder', () => sampler.samples.at(-1)?.holders.find((h) => h !== active));
  const oldSpan = sampler.span(active, from);
  const newSpan = sampler.span(next, from) as { first: number };
  expect(oldSpan === null || oldSpan.last < newSpan.first).toBe(true);
  return next;
}

/** The answer that shows the client reached the VIP on another program than `oldPid` after `from`. */
async function answeredElsewhere(from: number, oldPid: number) {
  return waitFor('the client to be answered by the standby', () => client.firstAnswerAfter(from, oldPid), { timeoutMs: 10_000 });
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-failover-'));
  manager = new Manager({ ARMORY_HOME: path.join(home, 'manager') });
  await manager.open();
  net.up([...MEMBERS, 'client']);
  const pids: Record<string, number> = {};
  for (const h of MEMBERS) pids[h] = net.spawn(h, 'sleep', ['3600']).pid as number;
  await Promise.all(MEMBERS.map(async (h) => keepers.set(h, await standUpAgent(manager, net, home, h))));
  sampler = new VipSampler(VIP, pids, 10);
  sampler.start();
  client = new VipClient(net, 'client', VIP, 8080, 10, 100);
  const r = await manager.apply(config());
  expect(r.pushed.every((p) => p.ok)).toBe(true);
}, 90_000);

afterAll(() => {
  sampler?.stop();
  manager?.close();
  net.down();
  if (home && !process.env.ARMORY_KEEP_TEST_HOME) fs.rmSync(home, { recursive: true, force: true });
});

describe('node failover with a virtual IP (3 nodes in network namespaces, a client in a fourth)', () => {
  it('the highest-priority node takes the VIP, starts the service and answers the client', async () => {
    expect(await settledHolder(20_000)).toBe('h1');
    if (process.env.ARMORY_KEEP_TEST_HOME) console.log(home);
    expect((await groupsSeenBy('h2'))[0]).toMatchObject({ group: 'g', state: 'standby', activeNode: 'h1' });
  });

  it('the manager shows the active node, epoch, heartbeat health and failover budget', async () => {
    const [g] = await waitFor('every heartbeat path fresh', async () => {
      const gs = await manager.groups();
      return gs[0]?.heartbeats.length === 6 && gs[0].heartbeats.every((h) => h.fresh) ? gs : undefined;
    });
    expect(g).toMatchObject({ group: 'g', activeNode: 'h1', services: ['web'] });
    expect(g?.epoch).toBeGreaterThan(0);
    expect(g?.members.map((m) => [m.node, m.state])).toEqual([
      ['h1', 'active'],
      ['h2', 'standby'],
      ['h3', 'standby'],
    ]);
    expect(g?.budget.detectMs).toBe(400);
    expect(g?.budget.totalMs).toBe(400 + (g?.budget.startMs ?? 0) + 20);
  });

  it('a manual move puts the service on the named node; a drained node hands it on', async () => {
    const r = await manager.move('web', 'h3');
    expect(r.every((p) => p.ok)).toBe(true);
    await waitFor('h3 to hold the VIP', () => sampler.holders().join() === 'h3');
    expect(await settledHolder()).toBe('h3');
    await manager.drain('h3', true);
    // The drain is answered once asked for; the node then steps down (the address goes first).
    await waitFor('the drained h3 to let go of the VIP', () => !sampler.holders().includes('h3'));
    const next = await settledHolder();
    expect(next).not.toBe('h3');
    await manager.drain('h3', false);
    expect((await groupsSeenBy('h3'))[0]).toMatchObject({ drained: false, ready: true, activeNode: next });
  });

  it('a node that let go of the VIP stops announcing it: the client stays on the new holder', async () => {
    const mac = (host: string) => /link\/ether ([0-9a-f:]+)/.exec(execFileSync('ip', ['-n', net.host(host).netns, '-o', 'link', 'show', 'eth0'], { encoding: 'utf8' }))?.[1];
    const clientSees = () => /lladdr ([0-9a-f:]+)/.exec(execFileSync('ip', ['-n', net.host('client').netns, 'neigh', 'show', VIP.split('/')[0] as string], { encoding: 'utf8' }))?.[1];
    const first = (await settledHolder()) === 'h2' ? 'h1' : 'h2';
    const second = 'h3';
    // A move and, within the 5 s its announcements take, a move away: the first node's remaining announcements must not go out.
    expect((await manager.move('web', first)).every((p) => p.ok)).toBe(true);
    await waitFor(`${first} to hold the VIP`, () => sampler.holders().join() === first);
    expect((await manager.move('web', second)).every((p) => p.ok)).toBe(true);
    expect(await settledHolder()).toBe(second);
    const want = mac(second);
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 40; i += 1) {
      seen.add(clientSees());
      await new Promise((r) => setTimeout(r, 100));
    }
    expect([...seen]).toEqual([want]);
  });

  it('SIGKILL of the active agent and its program: the client reaches the VIP on a standby', async () => {
    const active = await settledHolder();
    const oldPid = programPid(active);
    const from = performance.now();
    const t = Date.now();
    process.kill(agentPid(home, active) as number, 'SIGKILL');
    process.kill(oldPid, 'SIGKILL');
    const a = await answeredElsewhere(t, oldPid);
    expect(a.t - t).toBeLessThan(5000);
    // The keeper took the dead agent's VIP away at once: the standby never held it beside it.
    const next = await settledHolder();
    expect(next).not.toBe(active);
    expect(sampler.doubles().filter((x) => x.t >= from)).toEqual([]);
    const old = sampler.span(active, from);
    const taken = sampler.span(next, from);
    if (old && taken) expect(old.last).toBeLessThan(taken.first);
  });

  it('SIGKILL of the active agent alone: its keeper stops the group\'s program (a standby serves it); a program of no group keeps running', async () => {
    const active = await settledHolder();
    const oldPid = programPid(active);
    const bystander = programPid(active, 'bystander');
    const agent = agentPid(home, active) as number;
    const t = Date.now();
    process.kill(agent, 'SIGKILL');
    // The keeper's bound is 5 s (the program's stop grace is 1 s here).
    await waitFor('the dead agent\'s group program to be stopped by its keeper', () => !isAlive(oldPid), { timeoutMs: 6000, everyMs: 20 });
    const gone = Date.now();
    // Stopped by the keeper, before it started the agent again (not by the restarted agent as a standby).
    expect(agentPid(home, active)).toBe(agent);
    await answeredElsewhere(t, oldPid);
    expect(await settledHolder()).not.toBe(active);
    // Nothing on the old node answers for the service any more, not even at its own address.
    expect(execFileSync('ip', ['netns', 'exec', net.host(active).netns, 'ss', '-Htln', 'sport = :8080'], { encoding: 'utf8' }).trim()).toBe('');
    expect(client.lastAnswerFrom(oldPid)?.t ?? 0).toBeLessThanOrEqual(gone);
    // The restarted agent re-adopted the program of no group: same pid.
    await waitFor('a restarted agent', () => agentPid(home, active) !== agent && manager.waitForAgent(active, 100).then(() => true), { timeoutMs: 20_000 });
    await waitFor('the restarted agent to re-adopt the bystander', () => programPid(active, 'bystander') === bystander, { timeoutMs: 10_000 });
    expect(isAlive(bystander)).toBe(true);
  });

  it('the active node\'s link goes down: the client reaches the VIP on a standby; the cut node has stepped down', async () => {
    const active = await settledHolder();
    const oldPid = programPid(active);
    const from = performance.now();
    const t = Date.now();
    net.link(active, 'down');
    await answeredElsewhere(t, oldPid);
    const next = await handedOver(active, from);
    net.link(active, 'up');
    expect(await settledHolder()).toBe(next);
  });

  it('SIGSTOP of the whole agent (keeper and agent): the client reaches the VIP on a standby', async () => {
    const active = await settledHolder();
    const oldPid = programPid(active);
    const stopped = [keepers.get(active)?.pid as number, agentPid(home, active) as number];
    const t = Date.now();
    for (const pid of stopped) process.kill(pid, 'SIGSTOP');
    try {
      await answeredElsewhere(t, oldPid);
    } finally {
      for (const pid of stopped) process.kill(pid, 'SIGCONT');
    }
    // Woken up, the node finds its lease long gone and releases the address.
    const next = await settledHolder();
    expect(next).not.toBe(active);
  });

  it('cut off from the other members but not from the client: it stops answering before the standby starts', async () => {
    const active = await settledHolder();
    const oldPid = programPid(active);
    const from = performance.now();
    const t = Date.now();
    const others = MEMBERS.filter((h) => h !== active);
    for (const o of others) net.cut(active, o);
    try {
      const a = await answeredElsewhere(t, oldPid);
      await handedOver(active, from);
      // The client's last answer from the old program came before its first from the new one.
      const lastOld = client.lastAnswerFrom(oldPid);
      expect(lastOld === undefined || lastOld.t < a.t).toBe(true);
    } finally {
      for (const o of others) net.mend(active, o);
    }
    await settledHolder();
  });

  it('a campaign of 50 random partitions and heals never leaves two holders of the VIP', async () => {
    await settledHolder();
    let seed = Number(process.env.ARMORY_PARTITION_SEED ?? 20261123);
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const from = performance.now();
    const pairs = [
      ['h1', 'h2'],
      ['h1', 'h3'],
      ['h2', 'h3'],
    ] as const;
    for (let i = 0; i < 50; i += 1) {
      const kind = pick(['isolate', 'pair', 'two-pairs'] as const);
      const heal: (() => void)[] = [];
      if (kind === 'isolate') {
        const h = pick(MEMBERS);
        net.link(h, 'down');
        heal.push(() => net.link(h, 'up'));
      } else {
        const cut = kind === 'pair' ? [pick(pairs)] : pairs.filter((p) => p !== pick(pairs));
        for (const [a, b] of cut) {
          net.cut(a, b);
          heal.push(() => net.mend(a, b));
        }
      }
      await new Promise((r) => setTimeout(r, 100 + random() * 600));
      for (const h of heal) h();
      await new Promise((r) => setTimeout(r, 100 + random() * 300));
    }
    await settledHolder();
    const samples = sampler.samples.filter((s) => s.t >= from);
    expect(samples.length).toBeGreaterThan(1000);
    expect(sampler.doubles().filter((s) => s.t >= from)).toEqual([]);
  }, 120_000);

  it('a service whose restart budget is spent on the active node moves to the next node of its group', async () => {
    const active = await settledHolder();
    const from = performance.now();
    const r = await manager.apply(config(active));
    expect(r.pushed.every((p) => p.ok)).toBe(true);
    const next = await handedOver(active, from);
    expect(next).not.toBe(active);
    await settledHolder();
    await manager.collectEvents(active);
    expect(manager.readEvents({ node: active, service: 'web' }).some((e) => e.to === 'escalated')).toBe(true);
    const seen = (await groupsSeenBy(active))[0];
    expect(seen).toMatchObject({ ready: false, activeNode: next });
  }, 60_000);
});
