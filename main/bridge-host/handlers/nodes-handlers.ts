import type { BridgeDomains } from '../../../common/bridge/contract.js';
import type { NodeSummary } from '../../../common/bridge/nodes.js';
import { LOCAL_NODE } from '../../../common/config/placement.js';
import { PROTOCOL_VERSION } from '../../../common/wire/protocol.js';
import type { DomainHandlers } from '../bridge-host.js';
import type { Enrollments } from '../enrollments.js';
import type { HostContext } from '../host-context.js';

export function nodesHandlers(ctx: HostContext, enrollments: Enrollments): DomainHandlers<BridgeDomains['nodes']> {
  const summary = async (name: string): Promise<NodeSummary> => {
    const rec = ctx.manager.node(name);
    const s = (await ctx.status()).nodes.find((n) => n.node === name);
    return {
      name,
      address: rec.address,
      local: name === LOCAL_NODE,
      reachable: s?.reachable ?? false,
      error: s ? s.error : 'not asked yet',
      services: s?.services.length ?? 0,
      agentVersion: typeof rec.profile?.agentVersion === 'string' ? rec.profile.agentVersion : null,
      certificateExpires: rec.certificateExpires,
      enrolledAt: rec.enrolledAt,
    };
  };
  return {
    list: async () => Promise.all(Object.keys(ctx.manager.inventory.data.nodes).map(summary)),
    get: async ({ name }) => {
      const rec = ctx.manager.node(name);
      const agentVersion = await ctx.manager
        .connect(name, 3000)
        .then(async (c) => {
          try {
            return (await c.call('hello', { protocol: PROTOCOL_VERSION })).agentVersion;
          } finally {
            c.close();
          }
        })
        .catch(() => null);
      return { ...(await summary(name)), agentVersion, profile: rec.profile, hostKey: rec.hostKey, sshUser: rec.sshUser, certificateFingerprint: rec.certificateFingerprint, install: rec.install };
    },
    addLocal: async () => {
      await ctx.manager.addLocalNode({ agentPort: ctx.localAgentPort, agentBin: ctx.agentBin });
      await ctx.status({ fresh: true });
      return summary(LOCAL_NODE);
    },
    enroll: async (p) => enrollments.enroll(p),
    confirmHostKey: async ({ id, fingerprint, accept }) => enrollments.confirmHostKey(id, fingerprint, accept),
    remove: async ({ name, auth }) => enrollments.remove(name, auth),
  };
}
