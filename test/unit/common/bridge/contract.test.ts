import { describe, expect, expectTypeOf, it } from 'vitest';
import { bridgeOverRpc } from '../../../../common/bridge/bridge-proxy.js';
import { bridgeDomains, contractEntries, type ArmoryBridge } from '../../../../common/bridge/contract.js';
import type { Disposable } from '../../../../common/bridge/domain.js';
import type { NotificationView } from '../../../../common/bridge/events.js';
import { eventOfListener, wireName } from '../../../../common/bridge/wire-names.js';
import { memoryPortPair } from '../../../../common/rpc/port.js';
import { RpcClient } from '../../../../common/rpc/rpc-client.js';
import { serveRpc } from '../../../../common/rpc/rpc-server.js';
import { waitFor } from '../../../helpers/wait.js';

describe('the bridge contract', () => {
  it('names every method and event domain.member, once', () => {
    const { methods, events } = contractEntries();
    expect(methods.get('services.restart')).toBe(bridgeDomains.services.methods.restart);
    expect(events.get('events.notification')).toBe(bridgeDomains.events.events.notification);
    const count = Object.values(bridgeDomains).reduce((n, d) => n + Object.keys(d.methods).length, 0);
    expect(methods.size).toBe(count);
    expect(eventOfListener('onNotification')).toBe('notification');
    expect(eventOfListener('restart')).toBeNull();
    expect(wireName('nodes', 'list')).toBe('nodes.list');
  });

  it('types the interface from the schemas: Promise-returning methods and onX(listener): Disposable', () => {
    expectTypeOf<ArmoryBridge['services']['restart']>().parameter(0).toEqualTypeOf<{ node: string; name: string }>();
    expectTypeOf<ReturnType<ArmoryBridge['services']['restart']>>().toEqualTypeOf<Promise<{ message: string }>>();
    expectTypeOf<ArmoryBridge['events']['onNotification']>().toEqualTypeOf<(listener: (data: NotificationView) => void) => Disposable>();
  });

  it('runs over an RpcClient without the schemas on the calling side', async () => {
    const [a, b] = memoryPortPair();
    const { methods, events } = contractEntries();
    const conn = serveRpc(b, {
      methods,
      events,
      authorize: () => null,
      handle: async (m, p) => (m === 'services.restart' ? { message: `restarted ${(p as { name: string }).name}` } : null),
    });
    const bridge = bridgeOverRpc(new RpcClient(a));
    expect(await bridge.services.restart({ node: 'local', name: 'web' })).toEqual({ message: 'restarted web' });
    const seen: NotificationView[] = [];
    bridge.events.onNotification((n) => seen.push(n));
    await waitFor('the subscription', () => conn.subscriptionCount === 1);
    conn.emit('events.notification', { id: '1', time: 't', kind: 'info', severity: 'info', title: 'hi', body: '' });
    await waitFor('the notification', () => seen.length === 1);
  });
});
