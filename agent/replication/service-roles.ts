import type { ArmoryConfig } from '../../common/config/document.js';

/**
 * Who holds a service's authoritative state, as failover decides it. Checkpoints and mirroring
 * take it from here: the active node saves and sends; standbys receive. `epochOf` grows by one at
 * every takeover, so that copies from an older epoch never overwrite newer ones.
 */
export interface ServiceRoles {
  epochOf(service: string): number;
  isActive(service: string): boolean;
  /** True when the service's failover group has heard nothing from `node` for its failure timeout (false: heard, or not a voter of it). */
  peerSilent?(service: string, node: string): boolean;
}

/**
 * The nodes that keep copies of a service's state: its placement's nodes and the members of a
 * group carrying it, in that order, without duplicates (none in `all` mode).
 */
export function replicaNodes(config: ArmoryConfig | null, service: string): string[] {
  const svc = config?.services[service];
  // In `all` mode every node runs its own instance with its own state: nothing is replicated.
  if (!config || !svc || svc.placement.mode === 'all') return [];
  const out: string[] = [...svc.placement.nodes];
  for (const g of Object.values(config.groups)) {
    if (!g.services.includes(service)) continue;
    for (const m of g.members) if (!out.includes(m.node)) out.push(m.node);
  }
  return out;
}

/** The default until failover wires its own: epoch 0, the first replica node (or a lone node) is active. */
export function placementRoles(config: () => ArmoryConfig | null, self: string): ServiceRoles {
  return {
    epochOf: () => 0,
    isActive: (service) => {
      const nodes = replicaNodes(config(), service);
      return nodes.length === 0 || nodes[0] === self;
    },
  };
}
