import type { BridgeDomains } from '../../../common/bridge/contract.js';
import type { EventView } from '../../../common/bridge/events.js';
import type { DomainHandlers } from '../bridge-host.js';
import type { HostContext } from '../host-context.js';

export function eventsHandlers(ctx: HostContext): DomainHandlers<BridgeDomains['events']> {
  return {
    query: async ({ node, service, kinds, since, limit }) => {
      const kindSet = kinds && kinds.length > 0 ? new Set<string>(kinds) : null;
      const events = ctx.manager.events.read({
        ...(since !== undefined ? { since } : {}),
        limit,
        filter: (e) => (!node || e.node === node) && (!service || e.service === service) && (!kindSet || kindSet.has(e.kind)),
      }) as EventView[];
      return { events, last: events.at(-1)?.seq ?? since ?? 0 };
    },
  };
}
