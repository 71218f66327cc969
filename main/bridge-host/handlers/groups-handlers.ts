import type { BridgeDomains } from '../../../common/bridge/contract.js';
import type { DomainHandlers } from '../bridge-host.js';
import type { HostContext } from '../host-context.js';
import { failoverBudget } from '../../../common/config/failover-budget.js';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { currentConfig } from './config-handlers.js';

export function groupsHandlers(ctx: HostContext): DomainHandlers<BridgeDomains['groups']> {
  return {
    list: async () => {
      const { config } = currentConfig(ctx.manager);
      const [status, summaries] = await Promise.all([ctx.status(), ctx.manager.groups()]);
      const nodes = new Map(status.nodes.map((n) => [n.node, n]));
      return Object.entries(config.groups).map(([name, g]) => {
        const summary = summaries.find((x) => x.group === name);
        return {
          name,
          services: g.services,
          failback: g.failback,
          heartbeatMs: g.heartbeat,
          failAfterMs: g.failAfter,
          witness: g.witness ?? null,
          activeNode: summary?.activeNode ?? null,
          epoch: summary?.epoch ?? 0,
          budget: summary?.budget ?? failoverBudget(g.heartbeat, g.failAfter, 0),
          members: g.members.map((m) => {
            const n = nodes.get(m.node);
            const heard = summary?.heartbeats.filter((b) => b.from === m.node) ?? [];
            return {
              node: m.node,
              priority: m.priority,
              reachable: n?.reachable ?? false,
              role: summary?.members.find((x) => x.node === m.node)?.state ?? null,
              copyLags: summary?.members.find((x) => x.node === m.node)?.lagging === true,
              hears: { fresh: heard.filter((b) => b.fresh).length, of: heard.length },
              services: Object.fromEntries(g.services.map((s) => [s, n?.services.find((x) => x.name === s)?.state ?? null])),
            };
          }),
        };
      });
    },
    move: async ({ service, node }) => {
      const pushed = await ctx.manager.move(service, node);
      const failed = pushed.filter((p) => !p.ok);
      if (failed.length === pushed.length) throw new ArmoryError('FAILOVER_E_UNKNOWN', `no member took the move: ${failed.map((p) => `${p.node}: ${p.message}`).join('; ')}`, { service });
      return { message: `${service}: moving to ${node}${failed.length > 0 ? ` (not told: ${failed.map((p) => p.node).join(', ')})` : ''}` };
    },
  };
}
