import type { ArmoryConfig } from './document.js';
import type { ServiceConfig } from './service.js';

/** The name of the manager's own machine as a node. */
export const LOCAL_NODE = 'local';

/**
 * Which services one node runs under a cluster configuration: in active-standby mode the first node
 * of the placement (failover moves it later), in `all` mode every node listed; a service with no
 * placement runs on the local node (the manager's machine).
 */
export function servicesForNode(config: ArmoryConfig, node: string): Record<string, ServiceConfig> {
  const out: Record<string, ServiceConfig> = {};
  for (const [name, svc] of Object.entries(config.services)) {
    const nodes = svc.placement.nodes;
    const runsHere = nodes.length === 0 ? node === LOCAL_NODE : svc.placement.mode === 'all' ? nodes.includes(node) : nodes[0] === node;
    if (runsHere) out[name] = svc;
  }
  return out;
}
