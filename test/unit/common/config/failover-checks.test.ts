import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../../common/config/document.js';
import { failoverChecks } from '../../../../common/config/failover-checks.js';

const doc = (groups: Record<string, unknown>, services: Record<string, unknown> = {}) =>
  configSchema.parse({
    nodes: { a: { address: '10.0.0.1' }, b: { address: '10.0.0.2' }, c: { address: '10.0.0.3' } },
    services: { web: { command: 'x', vip: { address: '10.0.0.50/24', interface: 'eth0' } }, ...services },
    groups,
  });

describe('failover checks at apply time', () => {
  it('a group with fewer than 3 voters and no witness is refused', () => {
    expect(failoverChecks(doc({ g: { members: [{ node: 'a' }, { node: 'b' }], services: ['web'] } })).map((i) => i.code)).toEqual(['GROUP_E_VOTERS']);
    expect(failoverChecks(doc({ g: { members: [{ node: 'a' }, { node: 'b' }], services: ['web'], witness: 'b' } })).map((i) => i.message)).toEqual([
      expect.stringMatching(/2 voters and no witness other than its member b/),
    ]);
    expect(failoverChecks(doc({ g: { members: [{ node: 'a' }, { node: 'b' }], services: ['web'], witness: 'c' } }))).toEqual([]);
    expect(failoverChecks(doc({ g: { members: [{ node: 'a' }, { node: 'b' }, { node: 'c' }], services: ['web'] } }))).toEqual([]);
  });

  it('a virtual IP used twice, or that is a node\'s address, is refused', () => {
    const two = doc({}, { db: { command: 'y', vip: { address: '10.0.0.50/24', interface: 'eth0' } }, api: { command: 'z', vip: { address: '10.0.0.2/24', interface: 'eth0' } } });
    expect(failoverChecks(two).map((i) => [i.code, i.path.join('.'), i.message])).toEqual([
      ['GROUP_E_VIP_CONFLICT', 'services.db.vip.address', 'virtual IP 10.0.0.50 of db is already the virtual IP of web'],
      ['GROUP_E_VIP_CONFLICT', 'services.api.vip.address', 'virtual IP 10.0.0.2 of api is the address of node b'],
    ]);
  });

  it('a virtual IP already on another host, or a missing interface (from the host profiles), is refused', () => {
    const c = doc({ g: { members: [{ node: 'a' }, { node: 'b' }], services: ['web'], witness: 'c' } });
    const issues = failoverChecks(c, {
      a: [{ name: 'eth0', addresses: ['10.0.0.1/24', '10.0.0.50/24'] }],
      b: [{ name: 'ens3', addresses: ['10.0.0.2/24'] }],
      c: [{ name: 'eth0', addresses: ['10.0.0.3/24', '10.0.0.50/24'] }],
    });
    expect(issues.map((i) => [i.code, i.message])).toEqual([
      ['GROUP_E_VIP_CONFLICT', 'virtual IP 10.0.0.50 of web is already configured on host c, interface eth0'],
      ['GROUP_E_INTERFACE', 'node b has no interface eth0 (it has ens3)'],
    ]);
  });

  it('a per-node interface map must name every member', () => {
    const c = configSchema.parse({
      nodes: { a: { address: '10.0.0.1' }, b: { address: '10.0.0.2' }, c: { address: '10.0.0.3' } },
      services: { web: { command: 'x', vip: { address: '10.0.0.50/24', interface: { a: 'eth0' } } } },
      groups: { g: { members: [{ node: 'a' }, { node: 'b' }, { node: 'c' }], services: ['web'] } },
    });
    expect(failoverChecks(c).map((i) => i.message)).toEqual(['virtual IP of web names no interface for node b', 'virtual IP of web names no interface for node c']);
  });

  it('a node that may carry a virtual IP but lacks ip or arping (from its host profile) is refused, naming the package', () => {
    const c = doc({ g: { members: [{ node: 'a' }, { node: 'b' }], services: ['web'], witness: 'c' } });
    // c is only the witness: it never holds the VIP, so what it lacks does not matter.
    const issues = failoverChecks(c, {}, { a: [], b: ['arping'], c: ['ip', 'arping'] });
    expect(issues.map((i) => [i.code, i.path.join('.'), i.message])).toEqual([
      ['GROUP_E_TOOLS', 'services.web.vip', expect.stringMatching(/^node b lacks arping, which moving the virtual IP of web needs \(Debian\/Ubuntu: iputils-arping\)/)],
    ]);
  });
});
