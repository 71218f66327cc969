import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../../common/wire/drill.js';
import { formatDrillReport } from '../../main/cli/drill-view.js';
import type { Manager } from '../../main/core/manager.js';
import { agentPid, ManagedHosts } from '../helpers/cluster-agents.js';
import { waitFor } from '../helpers/wait.js';

const SERVER = path.resolve(import.meta.dirname, '../fixtures/any-address-server.js');
const MEMBERS = ['h1', 'h2', 'h3'] as const;
const hosts = new ManagedHosts('drill', MEMBERS);
const net = hosts.net;
const VIP = `${net.subnet}.100`;
let manager: Manager;

const config = () => `nodes:
${MEMBERS.map((h) => `  ${h}: { address: ${net.host(h).address} }`).join('\n')}
services:
  web:
    command: ${process.execPath}
    args: ["${SERVER}", "8080"]
    stop: { grace: 1s }
    placement: { nodes: [h1, h2, h3] }
    vip: { address: ${VIP}/24, interface: eth0 }
    probes: [{ tcp: "127.0.0.1:8080", interval: 200ms, timeout: 200ms }]
groups:
  g:
    members: [{ node: h1, priority: 200 }, { node: h2, priority: 150 }, { node: h3, priority: 100 }]
    services: [web]
`;

/** The active node once the group has a ready standby again (the drill would not be refused). */
async function readyForDrill(): Promise<string> {
  return waitFor('the group to have an active node and a ready standby', async () => (await manager.drills.plan({ service: 'web', fault: 'kill' })).node, { timeoutMs: 30_000, everyMs: 250 });
}

/**
 * Waits until the active node's gratuitous ARP announcements (5, 1 s apart, from its takeover) are
 * over: an announcer still running on a node whose agent was killed pulls clients back to it.
 */
async function announcementsOver(node: string): Promise<void> {
  await waitFor('the takeover\'s ARP announcements to be over', async () => {
    await manager.collectEvents(node);
    const active = manager.readEvents({ node, limit: 100_000 }).filter((e) => e.kind === 'failover' && e.to === 'active').at(-1);
    return active !== undefined && Date.now() - Date.parse(active.time) > 5500;
  }, { timeoutMs: 20_000, everyMs: 250 });
}

/** What every drill of this file must show: the service recovered and the clients' outage was measured. */
function recovered(r: DrillReport, before: string): void {
  if (process.env.ARMORY_DRILL_SHOW) console.log(process.env.ARMORY_DRILL_SHOW === 'all' ? formatDrillReport(r).join('\n') : r.summary);
  expect(r.nodeBefore).toBe(before);
  expect(MEMBERS).toContain(r.nodeAfter);
  expect(r.detectionMs).not.toBeNull();
  expect(r.recoveryMs).not.toBeNull();
  expect(r.failedProbes).toBeGreaterThan(0);
  expect(r.outageMs).toBeGreaterThan(0);
  expect(r.budget?.totalMs).toBeGreaterThan(0);
  expect(['within-budget', 'over-budget']).toContain(r.verdict);
  expect(r.events.some((e) => e.role === 'recovery' && e.node === r.nodeAfter)).toBe(true);
  expect(r.probe.target).toBe(`${VIP}:8080`);
}

/** …and it did so on a standby. */
function movedToStandby(r: DrillReport, before: string): void {
  recovered(r, before);
  expect(r.nodeAfter).not.toBe(before);
}

const ipOut = (host: string, ...args: string[]) => execFileSync('ip', ['-n', net.host(host).netns, ...args], { encoding: 'utf8' });

/** A route elsewhere (none of the test hosts), added on each host next to a default route: link-down must not lose them. */
const STATIC_ROUTE = '198.19.254.0/24';
/** A static IPv6 address per host, in 2002:c612::/31 (the 6to4 image of 198.18.0.0/15): link-down removes it, the drill puts it back. */
const v6Address = (i: number) => `2002:c612:fe${i}::1/64`;
const v6Addresses = (host: string) => [...ipOut(host, '-o', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global').matchAll(/inet6 (\S+)/g)].map((m) => m[1]).sort();

beforeAll(async () => {
  await hosts.up();
  for (const h of MEMBERS) {
    ipOut(h, 'route', 'add', 'default', 'via', net.gateway);
    ipOut(h, 'route', 'add', STATIC_ROUTE, 'via', net.gateway, 'metric', '7');
    ipOut(h, '-6', 'addr', 'add', v6Address(MEMBERS.indexOf(h)), 'dev', 'eth0', 'nodad');
  }
  manager = hosts.manager;
  const r = await manager.apply(config());
  expect(r.pushed.every((p) => p.ok)).toBe(true);
}, 90_000);

afterAll(() => hosts.down());

describe('failover drills on test hosts (3 members, a VIP probed from the manager in the root namespace)', () => {
  it('agent-kill: the active node\'s agent dies; the service answers at the VIP again', async () => {
    const before = await readyForDrill();
    await announcementsOver(before);
    const r = await manager.drills.run({ service: 'web', fault: 'agent-kill' });
    // A standby takes over unless the keeper brought the agent back (it re-adopts the program) before the peers noticed.
    recovered(r, before);
    // The keeper brought the agent back.
    await manager.waitForAgent(before, 20_000);
    expect(manager.drills.list(5).map((x) => x.id)).toContain(r.id);
  }, 90_000);

  it('link-down: the active node\'s interface goes down for 3 s; a standby takes over; the link comes back', async () => {
    const before = await readyForDrill();
    const routes = ipOut(before, '-4', 'route', 'show');
    expect(routes).toMatch(new RegExp(`^default via ${net.gateway.replace(/\./g, '\\.')} dev eth0`, 'm'));
    expect(routes).toContain(STATIC_ROUTE);
    const addresses = v6Addresses(before);
    expect(addresses).toEqual([v6Address(MEMBERS.findIndex((m) => m === before))]);
    const r = await manager.drills.run({ service: 'web', fault: 'link-down', durationMs: 3000 });
    movedToStandby(r, before);
    await waitFor('the link to be up again', () => /state UP/.test(ipOut(before, 'link', 'show', 'eth0')));
    // Down flushed every route through eth0; up brought back only the kernel's: the agent put the others back.
    await waitFor('the routes through eth0 to be back', () => ipOut(before, '-4', 'route', 'show') === routes, { timeoutMs: 10_000 });
    expect(ipOut(before, '-4', 'route', 'show')).toBe(routes);
    // The kernel (keep_addr_on_down 0) dropped the static IPv6 address with the link; the drill put it back.
    await waitFor('the IPv6 address of eth0 to be back', () => v6Addresses(before).join() === addresses.join(), { timeoutMs: 10_000 });
  }, 90_000);

  it('link-down on the interface the manager reaches the agent by: the agent answers first, then takes the link down', async () => {
    const active = await readyForDrill();
    const routes = ipOut(active, '-4', 'route', 'show');
    const c = await manager.connect(active);
    let answeredAt = 0;
    const sent = Date.now();
    try {
      // Made before answering, the fault would hold the answer back until the link is up again (5 s).
      const answer = c.call('drill.inject', { drill: 'answer-first', service: 'web', fault: 'link-down', durationMs: 5000 }).then(
        () => (answeredAt = Date.now()),
        () => undefined,
      );
      await Promise.race([answer, new Promise((r) => setTimeout(r, 4000))]);
    } finally {
      c.close();
    }
    expect(answeredAt, 'the answer came within 4 s').toBeGreaterThan(0);
    expect(answeredAt - sent).toBeLessThan(4000);
    await waitFor('the link to go down', () => !/state UP/.test(ipOut(active, 'link', 'show', 'eth0')), { timeoutMs: 3000 });
    await waitFor('the link and its routes to be back', () => /state UP/.test(ipOut(active, 'link', 'show', 'eth0')) && ipOut(active, '-4', 'route', 'show') === routes, { timeoutMs: 15_000 });
    await manager.waitForAgent(active, 20_000);
    // The agent refuses a new network fault until this one's detached restorer has acted (duration + 1 s).
    await waitFor('the detached restorer to have acted', () => Date.now() - sent > 5000 + 1000 + 600, { timeoutMs: 10_000 });
  }, 90_000);

  it('partition: the active node is cut off from its peers, not from clients; a standby takes over; the rules are gone afterwards', async () => {
    const before = await readyForDrill();
    const r = await manager.drills.run({ service: 'web', fault: 'partition', durationMs: 3000 });
    movedToStandby(r, before);
    expect(r.events.some((e) => e.kind === 'drill' && /cut off from the group peers/.test(e.reason))).toBe(true);
    await waitFor('the partition rules to be gone', () => !/prohibit/.test(ipOut(before, 'rule', 'show')));
    // The local table's lookup is back at the front, once.
    expect(ipOut(before, 'rule', 'show').split('\n').filter((l) => /lookup local/.test(l))).toEqual(['0:\tfrom all lookup local']);
    // Cut off, the node stepped down and did not become active again while the cut lasted.
    expect(r.events.some((e) => e.node === before && e.atMs > 0 && /active → stepping-down/.test(e.reason))).toBe(true);
    expect(r.events.some((e) => e.node === before && e.atMs > 0 && e.atMs < 3000 && /→ active:/.test(e.reason))).toBe(false);
    // It answers its peers again: the group has a ready standby once more.
    await readyForDrill();
  }, 90_000);

  it('a partition left behind by an agent that died is undone when its agent starts again', async () => {
    const active = await readyForDrill();
    const c = await manager.connect(active);
    try {
      await c.call('drill.inject', { drill: 'left-behind', service: 'web', fault: 'partition', durationMs: 120_000 });
    } finally {
      c.close();
    }
    // The fault is made just after the answer.
    await waitFor('the partition to be made', () => /prohibit/.test(ipOut(active, 'rule', 'show')));
    expect(ipOut(active, 'rule', 'show')).not.toMatch(/^0:\s+from all lookup local/m);
    const pid = agentPid(hosts.home, active) as number;
    process.kill(pid, 'SIGKILL');
    // The keeper starts the agent again; it finds the recorded rules and removes them (long before the restorer's 2 minutes).
    await waitFor('the restarted agent to remove the rules', () => agentPid(hosts.home, active) !== pid && !/prohibit/.test(ipOut(active, 'rule', 'show')), { timeoutMs: 20_000 });
    expect(ipOut(active, 'rule', 'show')).toMatch(/^0:\s+from all lookup local/m);
    await manager.waitForAgent(active, 20_000);
    await readyForDrill();
  }, 90_000);

  it('a second drill while one runs is refused', async () => {
    await readyForDrill();
    const first = manager.drills.run({ service: 'web', fault: 'kill' });
    await expect(manager.drills.run({ service: 'web', fault: 'kill' })).rejects.toMatchObject({ code: 'DRILL_E_BUSY' });
    await first;
    // The drills collected the journals while nodes were cut off: every agent event is kept once.
    const seen = manager.readEvents({ limit: 100_000 }).filter((e) => e.node !== 'manager').map((e) => `${e.node}#${e.agentSeq}`);
    expect(new Set(seen).size).toBe(seen.length);
  }, 90_000);
});
