import { bridgeDomains, type ArmoryBridge, type BridgeDomains, type DomainName } from '../../../common/bridge/contract.js';
import type { DomainApi } from '../../../common/bridge/domain.js';
import { wireName } from '../../../common/bridge/wire-names.js';
import type { RpcPort } from '../../../common/rpc/port.js';
import { RpcClient } from '../../../common/rpc/rpc-client.js';

/** What the preload gets from ipcRenderer, and nothing more: send on the one channel, hear it. */
export interface PreloadIpc {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
}

const capitalize = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}`;

/**
 * `window.armory`: one frozen object with a frozen object per domain of the contract, whose members
 * are plain functions (contextBridge copies objects and cannot carry a Proxy). A method calls
 * `domain.method` over the RPC; `onEvent(listener)` subscribes to `domain.event` and returns a frozen
 * `{ dispose }`. Calls are asynchronous and checked by the bridge-host; no channel name or ipcRenderer
 * reaches the page.
 */
export function createArmoryBridge(ipc: PreloadIpc): ArmoryBridge {
  const port: RpcPort = {
    send: (m) => ipc.send(m),
    onMessage: (listener) => {
      ipc.onMessage((m) => listener(m));
      return { dispose: () => undefined };
    },
  };
  const client = new RpcClient(port, { timeoutMs: 0 });
  const api = <D extends DomainName>(d: D): DomainApi<BridgeDomains[D]> => {
    const def = bridgeDomains[d];
    const members: Record<string, unknown> = {};
    for (const m of Object.keys(def.methods)) {
      const method = wireName(d, m);
      members[m] = (params?: unknown) => client.call(method, params);
    }
    for (const e of Object.keys(def.events)) {
      const event = wireName(d, e);
      members[`on${capitalize(e)}`] = (listener: (data: unknown) => void) => {
        if (typeof listener !== 'function') throw new TypeError(`on${capitalize(e)} needs a listener function`);
        const sub = client.subscribe(event, (data) => listener(data));
        return Object.freeze({ dispose: () => sub.dispose() });
      };
    }
    return Object.freeze(members) as DomainApi<BridgeDomains[D]>;
  };
  return Object.freeze({
    nodes: api('nodes'),
    services: api('services'),
    config: api('config'),
    events: api('events'),
    groups: api('groups'),
    settings: api('settings'),
    jobs: api('jobs'),
    drill: api('drill'),
  } satisfies ArmoryBridge);
}
