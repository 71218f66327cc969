import type { ArmoryConfig } from '../../common/config/document.js';
import type { ShimConfig } from './shim-options.js';

/**
 * Where the client end finds the server end of a shim. Failover decides which node is active
 * for a service; the shims only ask this interface, so the election can be wired in without
 * touching them.
 */
export interface ServerLocator {
  /**
   * host:port of the server end now, or null when nothing is known to run the service. `tcpPort`
   * (default: the shim's, dataPortOf) is where plain paths go at the same host, for transport tcp.
   */
  locate(service: string, shim: ShimConfig): { host: string; port: number; tcpPort?: number } | null;
}

/** Which node runs a service now (failover's answer), or null to fall back to the placement. */
export type ActiveNodeOf = (service: string) => string | null;

/**
 * The default: through the service's VIP when it has one (the VIP follows the active node), else
 * the active node's address — the node failover names, or the first node of the placement.
 */
export function configLocator(config: () => ArmoryConfig | null, activeNodeOf: ActiveNodeOf = () => null): ServerLocator {
  return {
    locate(service, shim) {
      const cfg = config();
      const svc = cfg?.services[service];
      if (!cfg || !svc) return null;
      if (svc.vip) return { host: svc.vip.address.split('/')[0] as string, port: shim.port };
      const node = activeNodeOf(service) ?? svc.placement.nodes[0];
      if (node === undefined) return { host: '127.0.0.1', port: shim.port };
      const address = cfg.nodes[node]?.address;
      return address === undefined ? null : { host: address, port: shim.port };
    },
  };
}
