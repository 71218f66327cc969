import type { BridgeDomains } from '../../../common/bridge/contract.js';
import type { RecoveryView } from '../../../common/bridge/services.js';
import { availability } from '../../core/events/availability.js';
import type { DomainHandlers } from '../bridge-host.js';
import type { HostContext } from '../host-context.js';

const DAY = 86_400_000;

async function agentCall<T>(ctx: HostContext, node: string, call: (c: Awaited<ReturnType<HostContext['manager']['connect']>>) => Promise<T>): Promise<T> {
  const c = await ctx.manager.connect(node);
  try {
    return await call(c);
  } finally {
    c.close();
  }
}

/** Down periods of one service from its transitions: each departure from running and the time until it ran again. */
export function recoveriesOf(transitions: readonly { time: string; from?: string; to?: string; reason: string }[]): RecoveryView[] {
  const out: RecoveryView[] = [];
  let open: { time: string; to: string; reason: string; at: number } | null = null;
  for (const e of transitions) {
    if (e.from === 'running' && e.to !== undefined && e.to !== 'running' && e.to !== 'stopping' && e.to !== 'stopped') {
      open = { time: e.time, to: e.to, reason: e.reason, at: Date.parse(e.time) };
      out.push({ time: e.time, to: e.to, reason: e.reason, recoveryMs: null });
    } else if (e.to === 'running' && open) {
      (out[out.length - 1] as RecoveryView).recoveryMs = Date.parse(e.time) - open.at;
      open = null;
    }
  }
  return out;
}

export function servicesHandlers(ctx: HostContext): DomainHandlers<BridgeDomains['services']> {
  return {
    status: () => ctx.status(),
    start: ({ node, name }) => agentCall(ctx, node, (c) => c.call('start', { name })),
    stop: ({ node, name }) => agentCall(ctx, node, (c) => c.call('stop', { name })),
    restart: ({ node, name }) => agentCall(ctx, node, (c) => c.call('restart', { name })),
    logs: ({ node, name, lines }) => agentCall(ctx, node, (c) => c.call('logs', { name, lines, follow: false })),
    availability: async () => {
      const now = Date.now();
      const byService = new Map<string, { time: number; to: string }[]>();
      for (const e of ctx.manager.events.read({ filter: (e) => e.kind === 'transition' && e.service !== undefined && e.to !== undefined && Date.parse(e.time) >= now - 7 * DAY - DAY })) {
        const key = `${e.node}\0${e.service as string}`;
        let list = byService.get(key);
        if (!list) byService.set(key, (list = []));
        list.push({ time: Date.parse(e.time), to: e.to as string });
      }
      return [...byService].map(([key, changes]) => {
        const [node, service] = key.split('\0') as [string, string];
        return { node, service, day: availability(changes, now - DAY, now).availability, week: availability(changes, now - 7 * DAY, now).availability };
      });
    },
    recoveries: async ({ node, name, limit }) => {
      const transitions = ctx.manager.events.read({ filter: (e) => e.kind === 'transition' && e.node === node && e.service === name });
      return recoveriesOf(transitions).slice(-limit);
    },
  };
}
