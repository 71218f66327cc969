import type { RpcClient } from '../rpc/rpc-client.js';
import type { ArmoryBridge } from './contract.js';
import { eventOfListener, wireName } from './wire-names.js';

/**
 * An ArmoryBridge over an RpcClient, built without the zod schemas (the renderer bundle must not
 * carry them): `bridge.services.restart(p)` calls `services.restart`, `bridge.events.onNotification(fn)`
 * subscribes to `events.notification`. The host checks every call against the contract.
 */
export function bridgeOverRpc(client: RpcClient): ArmoryBridge {
  const domains = new Map<string, object>();
  const domainProxy = (domainName: string) =>
    new Proxy(Object.freeze({}), {
      get(_t, member) {
        if (typeof member !== 'string' || member === 'then') return undefined;
        const event = eventOfListener(member);
        if (event !== null) return (listener: (data: unknown) => void) => client.subscribe(wireName(domainName, event), listener);
        return (params?: unknown) => client.call(wireName(domainName, member), params);
      },
    });
  return new Proxy(Object.freeze({}), {
    get(_t, d) {
      if (typeof d !== 'string' || d === 'then') return undefined;
      let p = domains.get(d);
      if (!p) domains.set(d, (p = domainProxy(d)));
      return p;
    },
  }) as ArmoryBridge;
}
