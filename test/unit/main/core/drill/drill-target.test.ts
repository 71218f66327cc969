import { describe, expect, it } from 'vitest';
import type { ArmoryConfig } from '../../../../../common/config/document.js';
import { parseConfigText } from '../../../../../common/config/load.js';
import type { ArmoryError } from '../../../../../common/errors/armory-error.js';
import type { GroupSummary } from '../../../../../common/wire/failover-status.js';
import { drillTarget, probeAddress, type NodeView } from '../../../../../main/core/drill/drill-target.js';

function config(yaml: string): ArmoryConfig {
  const r = parseConfigText(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

const CLUSTER = config(`nodes:
  a: { address: 198.18.7.10 }
  b: { address: 198.18.7.11 }
services:
  web:
    command: /bin/true
    placement: { nodes: [a, b] }
    vip: { address: 198.18.7.100/24, interface: eth0 }
    probes: [{ tcp: "127.0.0.1:8080" }]
  cache:
    command: /bin/true
    probes: [{ http: "http://127.0.0.1:9000/health" }]
  quiet:
    command: /bin/true
groups:
  g:
    members: [{ node: a }, { node: b }]
    services: [web]
`);

const budget = { detectMs: 400, startMs: 100, arpMs: 20, totalMs: 520 };
const group = (members: GroupSummary['members'], activeNode: string | null = 'a'): GroupSummary[] => [{ group: 'g', services: ['web'], activeNode, epoch: 3, members, heartbeats: [], budget }];
const nodes: NodeView[] = [
  { node: 'a', address: '198.18.7.10', reachable: true, services: [{ name: 'web', state: 'running', ready: true }, { name: 'cache', state: 'running', ready: true }] },
  { node: 'b', address: '198.18.7.11', reachable: true, services: [{ name: 'web', state: 'stopped', ready: false }] },
];
const healthy = group([
  { node: 'a', state: 'active', ready: true, reachable: true },
  { node: 'b', state: 'standby', ready: true, reachable: true },
]);

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as ArmoryError).code;
  }
  return 'no refusal';
};

describe('where a drill runs and what it probes', () => {
  it('targets the active node of the group, probes the VIP at the probe\'s port, and takes the group\'s budget', () => {
    const t = drillTarget(CLUSTER, { service: 'web', fault: 'kill', force: false }, healthy, nodes);
    expect(t).toEqual({ service: 'web', fault: 'kill', node: 'a', group: 'g', standbys: ['b'], probe: { host: '198.18.7.100', port: 8080 }, budget });
  });

  it('refuses without a ready standby unless forced', () => {
    for (const b of [
      { node: 'b', state: 'standby', ready: false, reachable: true },
      { node: 'b', state: null, ready: null, reachable: false },
      { node: 'b', state: 'stepping-down', ready: true, reachable: true },
    ]) {
      const g = group([{ node: 'a', state: 'active', ready: true, reachable: true }, b]);
      expect(refusal(() => drillTarget(CLUSTER, { service: 'web', fault: 'kill', force: false }, g, nodes))).toBe('DRILL_E_NO_STANDBY');
      expect(drillTarget(CLUSTER, { service: 'web', fault: 'kill', force: true }, g, nodes).standbys).toEqual([]);
    }
    // A service in no group has no standby at all.
    expect(refusal(() => drillTarget(CLUSTER, { service: 'cache', fault: 'hang', force: false }, healthy, nodes))).toBe('DRILL_E_NO_STANDBY');
    const t = drillTarget(CLUSTER, { service: 'cache', fault: 'hang', force: true }, healthy, nodes);
    expect(t).toMatchObject({ node: 'a', group: null, budget: null, probe: { host: '198.18.7.10', port: 9000, http: { path: '/health', status: '200-399' } } });
  });

  it('refuses an unknown service or fault, a service no node runs, and one with no address', () => {
    expect(refusal(() => drillTarget(CLUSTER, { service: 'nope', fault: 'kill', force: true }, healthy, nodes))).toBe('DRILL_E_UNKNOWN_SERVICE');
    expect(refusal(() => drillTarget(CLUSTER, { service: 'web', fault: 'unplug', force: true }, healthy, nodes))).toBe('DRILL_E_UNKNOWN_FAULT');
    expect(refusal(() => drillTarget(CLUSTER, { service: 'web', fault: 'kill', force: true }, group([], null), nodes))).toBe('DRILL_E_NOT_RUNNING');
    const quietRuns = [{ ...nodes[0], services: [{ name: 'quiet', state: 'running', ready: true }] } as NodeView];
    expect(refusal(() => drillTarget(CLUSTER, { service: 'quiet', fault: 'kill', force: true }, healthy, quietRuns))).toBe('DRILL_E_NO_ADDRESS');
    expect(refusal(() => drillTarget(CLUSTER, { service: 'quiet', fault: 'kill', force: true }, healthy, nodes))).toBe('DRILL_E_NOT_RUNNING');
  });

  it('keeps a loopback probe address on the local node and uses a shim\'s client end as a last resort', () => {
    const local = config(`services:
  s:
    command: /bin/true
    probes: [{ tcp: "127.0.0.1:7000" }]
  t:
    command: /bin/true
    shims: [{ listen: "127.0.0.1:7100", target: "127.0.0.1:7000", port: 7200 }]
  v:
    command: /bin/true
    vip: { address: 10.0.0.5/24, interface: eth0 }
`);
    expect(probeAddress(local.services.s as never, '127.0.0.1', true)).toEqual({ host: '127.0.0.1', port: 7000 });
    expect(probeAddress(local.services.t as never, '198.18.0.2', false)).toEqual({ host: '127.0.0.1', port: 7100 });
    expect(probeAddress(local.services.v as never, '198.18.0.2', false)).toBeNull();
  });

  it('asks what the service\'s TCP probe asks when it expects an answer (a stopped program still accepts connections)', () => {
    const c = config(`services:
  r:
    command: /bin/true
    probes: [{ tcp: "127.0.0.1:6379" }, { tcp: "127.0.0.1:6379", send: "PING\\r\\n", expect: "+PONG" }]
    vip: { address: 10.0.0.5/24, interface: eth0 }
  b:
    command: /bin/true
    probes: [{ tcp: "127.0.0.1:25", expect: "220 " }]
`);
    expect(probeAddress(c.services.r as never, '198.18.0.2', false)).toEqual({ host: '10.0.0.5', port: 6379, expect: { send: 'PING\r\n', text: '+PONG' } });
    expect(probeAddress(c.services.b as never, '198.18.0.2', false)).toEqual({ host: '198.18.0.2', port: 25, expect: { text: '220 ' } });
  });
});
