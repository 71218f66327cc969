import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configLocator } from '../../../../agent/shims/server-locator.js';
import { ShimHost } from '../../../../agent/shims/shim-host.js';
import { configSchema } from '../../../../common/config/document.js';
import { freePort } from '../../../helpers/agent-harness.js';
import { shimPki } from '../../../helpers/shim-rig.js';

let pki: Awaited<ReturnType<typeof shimPki>>;
beforeAll(async () => {
  pki = await shimPki();
});

const hosts: ShimHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.stop();
});

const shim = (port: number, extra: Record<string, unknown> = {}) => ({ listen: '127.0.0.1:0', target: '127.0.0.1:9', port, ...extra });
const doc = (services: Record<string, unknown>) =>
  configSchema.parse({ nodes: { n1: { address: '198.18.0.11' }, n2: { address: '198.18.0.12' } }, services });

describe('ShimHost', () => {
  it('runs a client end where the shim\'s clients say and a server end where the service runs; restarts only what changed', async () => {
    const events: string[] = [];
    const host = new ShimHost({ material: pki.client, serverHost: '127.0.0.1', journal: (e) => events.push(e.text) }); // pki.client is node n1
    hosts.push(host);
    const [pa, pb, pc] = [freePort(), freePort(), freePort()];
    const first = doc({
      a: { command: '/bin/true', placement: { nodes: ['n1'] }, shims: [shim(pa)] },
      b: { command: '/bin/true', placement: { nodes: ['n2'] }, shims: [shim(pb, { clients: ['n1'] })] },
      c: { command: '/bin/true', placement: { nodes: ['n2'] }, shims: [shim(pc, { clients: ['n2'] })] },
    });
    await host.reconcile(first, new Set(['a']));
    expect(host.list().map((e) => e.id).sort()).toEqual(['a#0:client', 'a#0:server', 'b#0:client']);
    const before = new Map(host.list().map((e) => [e.id, e.end]));

    const second = doc({
      b: { command: '/bin/true', placement: { nodes: ['n2'] }, shims: [shim(pb, { clients: ['n1'], buffer: '1MB' })] },
      c: { command: '/bin/true', placement: { nodes: ['n2'] }, shims: [shim(pc, { clients: ['n2'] })] },
    });
    await host.reconcile(second, new Set());
    expect(host.list().map((e) => e.id)).toEqual(['b#0:client']);
    expect(host.list()[0]?.end).not.toBe(before.get('b#0:client'));
    const kept = host.list()[0]?.end;
    await host.reconcile(second, new Set());
    expect(host.list()[0]?.end).toBe(kept);
    expect(events).toEqual([]);
  });

  it('an end that cannot listen is reported with SHIM_E_LISTEN; the others start', async () => {
    const events: Array<{ code: string | null; text: string }> = [];
    const host = new ShimHost({ material: pki.client, serverHost: '127.0.0.1', journal: (e) => events.push(e) });
    hosts.push(host);
    const port = freePort();
    await host.reconcile(doc({ a: { command: '/bin/true', placement: { nodes: ['n1'] }, shims: [shim(port), shim(port)] } }), new Set(['a']));
    expect(host.list().map((e) => e.id).sort()).toEqual(['a#0:client', 'a#0:server', 'a#1:client']);
    expect(events).toEqual([expect.objectContaining({ code: 'SHIM_E_LISTEN' })]);
  });

  it('without cluster certificates no end starts, and the journal says so once', async () => {
    const events: Array<{ code: string | null }> = [];
    const host = new ShimHost({ material: null, journal: (e) => events.push(e) });
    hosts.push(host);
    const cfg = doc({ a: { command: '/bin/true', shims: [shim(freePort())] } });
    await host.reconcile(cfg, new Set(['a']));
    await host.reconcile(cfg, new Set(['a']));
    expect(host.list()).toEqual([]);
    expect(events).toEqual([expect.objectContaining({ code: 'SHIM_E_NO_TLS' })]);
  });
});

describe('configLocator (where the client end finds the server end)', () => {
  const cfg = doc({
    plain: { command: '/bin/true', placement: { nodes: ['n2', 'n1'] }, shims: [shim(7000)] },
    floating: { command: '/bin/true', placement: { nodes: ['n1', 'n2'] }, vip: { address: '198.18.0.50/24', interface: 'eth0' }, shims: [shim(7001)] },
    local: { command: '/bin/true', shims: [shim(7002)] },
  });
  const s = (name: string) => cfg.services[name]?.shims[0] as never;

  it('the VIP when the service has one, else the active node (failover\'s answer, else the first of the placement)', () => {
    const byPlacement = configLocator(() => cfg);
    expect(byPlacement.locate('floating', s('floating'))).toEqual({ host: '198.18.0.50', port: 7001 });
    expect(byPlacement.locate('plain', s('plain'))).toEqual({ host: '198.18.0.12', port: 7000 });
    expect(byPlacement.locate('local', s('local'))).toEqual({ host: '127.0.0.1', port: 7002 });
    expect(configLocator(() => cfg, () => 'n9').locate('plain', s('plain'))).toBeNull();
    expect(byPlacement.locate('nope', s('plain'))).toBeNull();
    const afterFailover = configLocator(() => cfg, (service) => (service === 'plain' ? 'n1' : null));
    expect(afterFailover.locate('plain', s('plain'))).toEqual({ host: '198.18.0.11', port: 7000 });
    expect(configLocator(() => null).locate('plain', s('plain'))).toBeNull();
  });
});
