import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { method, type MethodContract } from '../../../../common/rpc/envelope.js';
import { memoryPortPair } from '../../../../common/rpc/port.js';
import { RpcClient, type RpcCallError } from '../../../../common/rpc/rpc-client.js';
import { serveRpc } from '../../../../common/rpc/rpc-server.js';
import { waitFor } from '../../../helpers/wait.js';

const methods = new Map<string, MethodContract<z.ZodType, z.ZodType>>([
  ['math.add', method(z.strictObject({ a: z.number(), b: z.number() }), z.number())],
  ['math.broken', method(z.strictObject({}).optional(), z.number())],
  ['math.fail', method(z.strictObject({}).optional(), z.number())],
]);
const events = new Map([['math.tick', z.number()]]);

function setup(authorize: (origin: unknown) => string | null = () => null) {
  const [a, b] = memoryPortPair({ a: 'client' });
  const conn = serveRpc(b, {
    methods,
    events,
    authorize,
    handle: async (m, p) => {
      if (m === 'math.add') return (p as { a: number; b: number }).a + (p as { a: number; b: number }).b;
      if (m === 'math.broken') return 'not a number';
      throw new Error('boom');
    },
  });
  return { client: new RpcClient(a, { timeoutMs: 2000 }), conn, a };
}

const codeOf = async (p: Promise<unknown>) => (await p.then(() => null, (e: RpcCallError) => e)) as RpcCallError;

describe('RPC over a port', () => {
  it('answers a call with its result', async () => {
    const { client } = setup();
    expect(await client.call('math.add', { a: 2, b: 3 })).toBe(5);
  });

  it('answers bad params, unknown methods, handler failures and contract-breaking results with coded errors', async () => {
    const { client } = setup();
    const bad = await codeOf(client.call('math.add', { a: 'x', b: 1 }));
    expect(bad.code).toBe('RPC_E_BAD_PARAMS');
    expect(bad.message).toMatch(/^math\.add: a: /);
    expect(bad.context.problems).toEqual([expect.objectContaining({ path: 'a' })]);
    expect((await codeOf(client.call('math.nope'))).code).toBe('RPC_E_UNKNOWN_METHOD');
    expect((await codeOf(client.call('math.fail'))).code).toBe('RPC_E_INTERNAL');
    expect((await codeOf(client.call('math.broken'))).code).toBe('BRIDGE_E_BAD_RESULT');
    // Still serving after all of that.
    expect(await client.call('math.add', { a: 1, b: 1 })).toBe(2);
  });

  it('refuses every message from an untrusted sender before looking at it', async () => {
    let seen: unknown;
    const { client } = setup((origin) => ((seen = origin), 'not this one'));
    const e = await codeOf(client.call('math.add', { a: 1, b: 2 }));
    expect(e.code).toBe('BRIDGE_E_UNTRUSTED');
    expect(seen).toBe('client');
  });

  it('answers garbage with BRIDGE_E_BAD_MESSAGE and keeps going', async () => {
    const { a, client } = setup();
    const replies: unknown[] = [];
    a.onMessage((m) => replies.push(m));
    a.send('hello');
    a.send({ id: 7, method: 42 });
    await waitFor('two replies', () => replies.length >= 2);
    expect(replies).toEqual([
      expect.objectContaining({ id: null, ok: false, error: expect.objectContaining({ code: 'BRIDGE_E_BAD_MESSAGE' }) }),
      expect.objectContaining({ id: 7, ok: false, error: expect.objectContaining({ code: 'BRIDGE_E_BAD_MESSAGE' }) }),
    ]);
    expect(await client.call('math.add', { a: 1, b: 2 })).toBe(3);
  });

  it('delivers events to subscribers until they dispose, and refuses unknown events', async () => {
    const { client, conn } = setup();
    const got: unknown[] = [];
    const sub = client.subscribe('math.tick', (n) => got.push(n));
    await waitFor('the subscription', () => conn.subscriptionCount === 1);
    conn.emit('math.tick', 1);
    conn.emit('math.other', 9);
    conn.emit('math.tick', 2);
    await waitFor('two ticks', () => got.length === 2);
    sub.dispose();
    await waitFor('the unsubscription', () => conn.subscriptionCount === 0);
    conn.emit('math.tick', 3);
    expect(await client.call('math.add', { a: 0, b: 0 })).toBe(0);
    expect(got).toEqual([1, 2]);
    client.subscribe('math.nothing', () => undefined);
    await waitFor('refusal', async () => conn.subscriptionCount === 0 && (await client.call('math.add', { a: 0, b: 1 })) === 1);
  });

  it('fails pending calls when the port closes', async () => {
    const { a, client } = setup();
    const p = codeOf(client.call('math.add', { a: 1, b: 1 }));
    a.close?.();
    expect((await p).code).toBe('BRIDGE_E_CLOSED');
    expect((await codeOf(client.call('math.add', { a: 1, b: 1 }))).code).toBe('BRIDGE_E_CLOSED');
  });
});
