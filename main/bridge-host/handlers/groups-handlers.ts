import type { BridgeDomains } from '../../../common/bridge/contract.js';
import type { DomainHandlers } from '../bridge-host.js';
import type { HostContext } from '../host-context.js';
import { currentConfig } from './config-handlers.js';

export function groupsHandlers(ctx: HostContext): DomainHandlers<BridgeDomains['groups']> {
  return {
    list: async () => {
      const { config } = currentConfig(ctx.manager);
      const status = await ctx.status();
      const nodes = new Map(status.nodes.map((n) => [n.node, n]));
      return Object.entries(config.groups).map(([name, g]) => ({
        name,
        services: g.services,
        failback: g.failback,
        heartbeatMs: g.heartbeat,
        failAfterMs: g.failAfter,
        witness: g.witness ?? null,
        members: g.members.map((m) => {
          const n = nodes.get(m.node);
          return {
            node: m.node,
            priority: m.priority,
            reachable: n?.reachable ?? false,
            services: Object.fromEntries(g.services.map((s) => [s, n?.services.find((x) => x.name === s)?.state ?? null])),
          };
        }),
      }));
    },
  };
}
