import type { ErrorCode } from '../errors/codes.js';
import type { ArmoryConfig } from './document.js';

/** A network interface of a node as its host profile recorded it at enrollment. */
export interface KnownInterface {
  name: string;
  /** CIDR notation, e.g. 192.0.2.4/24. */
  addresses: readonly string[];
}

export interface FailoverIssue {
  code: Extract<ErrorCode, 'GROUP_E_VOTERS' | 'GROUP_E_VIP_CONFLICT' | 'GROUP_E_INTERFACE' | 'GROUP_E_TOOLS'>;
  path: (string | number)[];
  message: string;
}

const ipOf = (cidr: string) => cidr.split('/')[0] as string;

/**
 * Checks of failover groups and virtual IPs that the manager makes before it signs a
 * configuration: enough voters for a majority to survive one failure, each virtual IP used once
 * and not already an address of some host, and the interface present on every member that it
 * names (as far as the host profiles taken at enrollment tell; a node without a profile is not
 * checked for interfaces), and the commands that move it (`ip`, `arping`) present there.
 */
export function failoverChecks(
  config: ArmoryConfig,
  interfaces: Readonly<Record<string, readonly KnownInterface[] | null>> = {},
  missingVipCommands: Readonly<Record<string, readonly string[]>> = {},
): FailoverIssue[] {
  const issues: FailoverIssue[] = [];
  for (const [name, g] of Object.entries(config.groups)) {
    const members = new Set(g.members.map((m) => m.node));
    const witness = g.witness !== undefined && !members.has(g.witness) ? g.witness : undefined;
    const voters = members.size + (witness ? 1 : 0);
    if (voters < 3 && !witness) {
      issues.push({
        code: 'GROUP_E_VOTERS',
        path: ['groups', name, g.witness !== undefined ? 'witness' : 'members'],
        message: `group ${name} has ${voters} voter${voters === 1 ? '' : 's'} and no witness${g.witness !== undefined ? ` other than its member ${g.witness}` : ''}: with fewer than 3 voters no majority survives a failure; add a member or a witness (any other enrolled node, e.g. the manager's local node)`,
      });
    }
  }
  const seen = new Map<string, string>();
  const nodeAddress = new Map(Object.entries(config.nodes).map(([n, c]) => [c.address, n]));
  for (const [svc, s] of Object.entries(config.services)) {
    if (!s.vip) continue;
    const ip = ipOf(s.vip.address);
    const path = ['services', svc, 'vip', 'address'];
    const other = seen.get(ip);
    if (other !== undefined) issues.push({ code: 'GROUP_E_VIP_CONFLICT', path, message: `virtual IP ${ip} of ${svc} is already the virtual IP of ${other}` });
    seen.set(ip, svc);
    const group = Object.entries(config.groups).find(([, g]) => g.services.includes(svc));
    const carriers = group ? group[1].members.map((m) => m.node) : s.placement.nodes;
    const owner = nodeAddress.get(ip);
    if (owner !== undefined) issues.push({ code: 'GROUP_E_VIP_CONFLICT', path, message: `virtual IP ${ip} of ${svc} is the address of node ${owner}` });
    const ifaceOn = (node: string) => (typeof s.vip?.interface === 'string' ? s.vip.interface : s.vip?.interface[node]);
    for (const [node, ifs] of Object.entries(interfaces)) {
      for (const i of ifs ?? []) {
        // Where the service itself holds it (a carrier, on the configured interface) is no conflict.
        const own = carriers.includes(node) && ifaceOn(node) === i.name;
        if (!own && i.addresses.some((a) => ipOf(a) === ip)) issues.push({ code: 'GROUP_E_VIP_CONFLICT', path, message: `virtual IP ${ip} of ${svc} is already configured on host ${node}, interface ${i.name}` });
      }
    }
    for (const node of carriers) {
      const lacks = missingVipCommands[node] ?? [];
      if (lacks.length > 0) {
        issues.push({
          code: 'GROUP_E_TOOLS',
          path: ['services', svc, 'vip'],
          message: `node ${node} lacks ${lacks.join(' and ')}, which moving the virtual IP of ${svc} needs (Debian/Ubuntu: ${lacks.map((c) => (c === 'ip' ? 'iproute2' : 'iputils-arping')).join(', ')}); install it and enroll the node again`,
        });
      }
      const iface = typeof s.vip.interface === 'string' ? s.vip.interface : s.vip.interface[node];
      if (iface === undefined) {
        issues.push({ code: 'GROUP_E_INTERFACE', path: ['services', svc, 'vip', 'interface'], message: `virtual IP of ${svc} names no interface for node ${node}` });
        continue;
      }
      const known = interfaces[node];
      if (known && !known.some((i) => i.name === iface)) {
        issues.push({ code: 'GROUP_E_INTERFACE', path: ['services', svc, 'vip', 'interface'], message: `node ${node} has no interface ${iface} (it has ${known.map((i) => i.name).join(', ') || 'none'})` });
      }
    }
  }
  return issues;
}
