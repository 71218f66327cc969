import type { ArmoryConfig } from '../../../common/config/document.js';
import type { FailoverBudget } from '../../../common/config/failover-budget.js';
import { LOCAL_NODE } from '../../../common/config/placement.js';
import { splitHostPort } from '../../../common/config/probes.js';
import type { ServiceConfig } from '../../../common/config/service.js';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { DRILL_FAULTS, type DrillFault } from '../../../common/wire/drill.js';
import type { GroupSummary } from '../../../common/wire/failover-status.js';

/** What the runner needs to know of each node: whether it answers and which services run there, ready or not. */
export interface NodeView {
  node: string;
  address: string;
  reachable: boolean;
  services: readonly { name: string; state: string; ready: boolean }[];
}

/** Where and how a drill runs: the node that runs the service, its group, the address probed and the budget. */
export interface DrillTarget {
  service: string;
  fault: DrillFault;
  node: string;
  group: string | null;
  standbys: string[];
  probe: ProbeAddress;
  budget: FailoverBudget | null;
}

/**
 * Where the manager probes: a TCP connect, or with `http` a GET whose status must be in range (its
 * HTTP probe), or with `expect` what its TCP probe sends and the text the answer must contain.
 */
export interface ProbeAddress {
  host: string;
  port: number;
  http?: { path: string; status: string };
  expect?: { send?: string; text: string };
}

const LOOPBACK = /^(127\.|localhost$|\[?::1\]?$)/;

function urlHostPort(u: string, status: string): ProbeAddress {
  const url = new URL(u);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  // An https probe is checked as a TCP connect: the manager does not hold the service's CA.
  return url.protocol === 'http:' ? { host, port, http: { path: `${url.pathname}${url.search}`, status } } : { host, port };
}

/**
 * The service's own address as its clients reach it: its VIP with the port of its first TCP or
 * HTTP probe (else its shim's target port); without a VIP, the address of that probe (a loopback
 * host means the node's own address, unless the node is this machine) or its shim's client end.
 */
export function probeAddress(spec: ServiceConfig, nodeAddress: string, nodeIsLocal: boolean): ProbeAddress | null {
  // An HTTP probe, or a TCP probe that expects an answer, says more than a connect (a stopped
  // program's socket still accepts): they come first.
  const http = spec.probes.find((p) => 'http' in p);
  const tcps = spec.probes.flatMap((p) => ('tcp' in p ? [p] : []));
  const tcp = tcps.find((p) => p.expect !== undefined) ?? tcps[0];
  const expect = tcp?.expect !== undefined ? { expect: { ...(tcp.send !== undefined ? { send: tcp.send } : {}), text: tcp.expect } } : {};
  const own: ProbeAddress | null = http && 'http' in http ? urlHostPort(http.http, http.status) : tcp ? { ...splitHostPort(tcp.tcp), ...expect } : null;
  if (spec.vip) {
    const vip = spec.vip.address.split('/')[0] as string;
    if (own) return { ...own, host: vip };
    return spec.shims[0] ? { host: vip, port: splitHostPort(spec.shims[0].target).port } : null;
  }
  if (own) return LOOPBACK.test(own.host) && !nodeIsLocal ? { ...own, host: nodeAddress } : own;
  const shim = spec.shims[0];
  return shim ? splitHostPort(shim.listen) : null;
}

/**
 * Checks a drill request against the applied configuration and what the agents report now, and
 * says where it runs. Refuses (coded errors) an unknown service or fault, a service no node runs,
 * one with no address to probe, and — unless forced — one whose group has no ready standby.
 */
export function drillTarget(config: ArmoryConfig, request: { service: string; fault: string; force: boolean }, groups: readonly GroupSummary[], nodes: readonly NodeView[]): DrillTarget {
  const { service } = request;
  const spec = Object.hasOwn(config.services, service) ? config.services[service] : undefined;
  if (!spec) throw new ArmoryError('DRILL_E_UNKNOWN_SERVICE', `no service named "${service}" in the applied configuration (known: ${Object.keys(config.services).join(', ') || 'none'})`, { service });
  if (!(DRILL_FAULTS as readonly string[]).includes(request.fault)) throw new ArmoryError('DRILL_E_UNKNOWN_FAULT', `no fault named "${request.fault}" (faults: ${DRILL_FAULTS.join(', ')})`, { service });
  const fault = request.fault as DrillFault;
  const groupName = Object.entries(config.groups).find(([, g]) => g.services.includes(service))?.[0] ?? null;
  const summary = groupName !== null ? groups.find((g) => g.group === groupName) : undefined;
  const runningOn = (n: NodeView) => n.reachable && n.services.some((s) => s.name === service && s.state === 'running');
  const node = groupName !== null ? (summary?.activeNode ?? null) : (nodes.find(runningOn)?.node ?? null);
  if (node === null) throw new ArmoryError('DRILL_E_NOT_RUNNING', `no node runs ${service} now${groupName !== null ? ` (its group ${groupName} has no active node)` : ''}: there is nothing to drill`, { service });
  const standbys = (summary?.members ?? []).filter((m) => m.node !== node && m.reachable && m.ready === true && m.state === 'standby').map((m) => m.node);
  if (standbys.length === 0 && !request.force) {
    const why = groupName === null ? `${service} is in no failover group: only ${node} runs it` : `no member of ${groupName} but ${node} is a ready standby (${(summary?.members ?? []).filter((m) => m.node !== node).map((m) => `${m.node}: ${m.reachable ? (m.state ?? '?') : 'unreachable'}${m.ready === false ? ', not ready' : ''}`).join('; ') || 'no other member'})`;
    throw new ArmoryError('DRILL_E_NO_STANDBY', `${why}; the drill would take ${service} down until it recovers on ${node}. Run it anyway with --force.`, { service, node });
  }
  const nodeAddress = nodes.find((n) => n.node === node)?.address ?? config.nodes[node]?.address ?? '127.0.0.1';
  const probe = probeAddress(spec, nodeAddress, node === LOCAL_NODE);
  if (!probe) throw new ArmoryError('DRILL_E_NO_ADDRESS', `${service} has no address the manager can probe: give it a TCP or HTTP probe (with its VIP, the probe's port is used at the VIP) or a shim`, { service });
  return { service, fault, node, group: groupName, standbys, probe, budget: summary?.budget ?? null };
}
