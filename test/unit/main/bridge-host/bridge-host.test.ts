import { describe, expect, it } from 'vitest';
import { bridgeOverRpc } from '../../../../common/bridge/bridge-proxy.js';
import { memoryPortPair } from '../../../../common/rpc/port.js';
import { RpcClient, type RpcCallError } from '../../../../common/rpc/rpc-client.js';
import { BridgeHost } from '../../../../main/bridge-host/bridge-host.js';
import { sampleStatus, stubHandlers } from '../../../helpers/bridge-stubs.js';
import { waitFor } from '../../../helpers/wait.js';

const failure = (p: Promise<unknown>) => p.then(() => null, (e: RpcCallError) => e) as Promise<RpcCallError>;

function connect(host: BridgeHost, origin: unknown = 'trusted') {
  const [a, b] = memoryPortPair({ a: origin });
  host.attach(b, (o) => (o === 'trusted' ? null : 'not the app window'));
  return bridgeOverRpc(new RpcClient(a, { timeoutMs: 3000 }));
}

describe('the bridge-host over an in-memory port', () => {
  const calls: unknown[] = [];
  const host = new BridgeHost(
    stubHandlers({
      services: {
        restart: async (p) => (calls.push(p), { message: `restarted ${p.name}` }),
        status: async () => sampleStatus(),
        logs: async () => ({ lines: 'not an array' }) as never,
      },
    }),
    { onEventRejected: (e, why) => calls.push({ rejected: e, why }) },
  );

  it('hands a valid call to the core, parsed', async () => {
    const bridge = connect(host);
    expect(await bridge.services.restart({ node: 'local', name: 'web' })).toEqual({ message: 'restarted web' });
    expect(calls.at(-1)).toEqual({ node: 'local', name: 'web' });
    expect((await bridge.services.status()).nodes[0]?.services[0]?.name).toBe('web');
  });

  it('answers bad arguments with RPC_E_BAD_PARAMS naming the field, without calling the core', async () => {
    const bridge = connect(host);
    const before = calls.length;
    const e = await failure(bridge.services.restart({ node: 'local', name: '../etc/passwd' }));
    expect(e.code).toBe('RPC_E_BAD_PARAMS');
    expect(e.message).toMatch(/name: a service name is/);
    const extra = await failure(bridge.services.restart({ node: 'local', name: 'web', force: true } as never));
    expect(extra.code).toBe('RPC_E_BAD_PARAMS');
    expect(calls.length).toBe(before);
  });

  it('refuses an untrusted sender before anything runs', async () => {
    const bridge = connect(host, 'some other frame');
    const before = calls.length;
    const e = await failure(bridge.services.restart({ node: 'local', name: 'web' }));
    expect(e.code).toBe('BRIDGE_E_UNTRUSTED');
    expect(e.message).toBe('not the app window');
    expect(calls.length).toBe(before);
  });

  it('answers a core that breaks the contract with BRIDGE_E_BAD_RESULT, and an unknown method with RPC_E_UNKNOWN_METHOD', async () => {
    const bridge = connect(host);
    expect((await failure(bridge.services.logs({ node: 'local', name: 'web' }))).code).toBe('BRIDGE_E_BAD_RESULT');
    expect((await failure((bridge.services as unknown as { format(): Promise<unknown> }).format())).code).toBe('RPC_E_UNKNOWN_METHOD');
    expect((await failure(bridge.nodes.list())).code).toBe('RPC_E_INTERNAL');
  });

  it('sends events to subscribers only, after checking them against their schema', async () => {
    const bridge = connect(host);
    const seen: unknown[] = [];
    const sub = bridge.services.onStatus((s) => seen.push(s.nodes[0]?.services[0]?.state));
    await waitFor('the subscription', async () => {
      host.emit('services', 'status', sampleStatus('backing-off'));
      return seen.length > 0;
    });
    host.emit('services', 'status', { at: 'now', nodes: 'broken' } as never);
    expect(calls.at(-1)).toMatchObject({ rejected: 'services.status' });
    sub.dispose();
    expect(seen[0]).toBe('backing-off');
  });

  it('refuses to start with a method of the contract left unimplemented', () => {
    const handlers = stubHandlers();
    delete (handlers.groups as Record<string, unknown>).list;
    expect(() => new BridgeHost(handlers)).toThrow(/no handler for groups\.list/);
  });
});
