import { bridgeDomains } from '../../common/bridge/contract.js';
import type { BridgeHandlers } from '../../main/bridge-host/bridge-host.js';

type Overrides = { [D in keyof BridgeHandlers]?: Partial<BridgeHandlers[D]> };

/** Handlers for every method of the contract: the given ones, and for the rest a call that fails saying it is not stubbed. */
export function stubHandlers(overrides: Overrides = {}): BridgeHandlers {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [d, def] of Object.entries(bridgeDomains)) {
    out[d] = {};
    for (const m of Object.keys(def.methods)) out[d][m] = (overrides as Record<string, Record<string, unknown> | undefined>)[d]?.[m] ?? (async () => Promise.reject(new Error(`${d}.${m} is not stubbed`)));
  }
  return out as unknown as BridgeHandlers;
}

export const sampleStatus = (state: 'running' | 'backing-off' = 'running') => ({
  at: new Date().toISOString(),
  nodes: [
    {
      node: 'local',
      address: '127.0.0.1',
      reachable: true,
      error: null,
      services: [
        { name: 'web', state, desired: 'up' as const, ready: state === 'running', pid: 42, restarts: 0, reason: 'started', since: new Date().toISOString(), uptimeMs: 1, lastExit: null, nextRestartMs: null, statusText: null, health: null },
      ],
    },
  ],
});
