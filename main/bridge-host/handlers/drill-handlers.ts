import type { BridgeDomains } from '../../../common/bridge/contract.js';
import { DRILL_FAULT_HELP, DRILL_FAULTS } from '../../../common/wire/drill.js';
import type { DomainHandlers } from '../bridge-host.js';
import type { HostContext } from '../host-context.js';

/** Failover drills from the GUI: run one (its progress goes out as `drill.progress`), list and show the kept reports. */
export function drillHandlers(ctx: HostContext): DomainHandlers<BridgeDomains['drill']> {
  return {
    faults: async () => DRILL_FAULTS.map((fault) => ({ fault, help: DRILL_FAULT_HELP[fault] })),
    run: ({ service, fault, durationMs, force }) =>
      ctx.manager.drills.run({ service, fault, ...(durationMs !== undefined ? { durationMs } : {}), force: force ?? false }, (p) => ctx.emit('drill', 'progress', p)),
    list: async (params) => ctx.manager.drills.list(params?.limit ?? 20, params?.service).map(({ probes: _p, events: _e, ...r }) => r),
    get: async ({ id }) => ctx.manager.drills.get(id),
  };
}
