import type { z } from 'zod';
import type { Disposable } from '../bridge/domain.js';
import { SUBSCRIBE_METHOD, UNSUBSCRIBE_METHOD } from '../bridge/wire-names.js';
import { ArmoryError, toErrorPayload } from '../errors/armory-error.js';
import { requestSchema, type MethodContract } from './envelope.js';
import type { RpcPort } from './port.js';

export interface RpcServerOptions {
  /** Methods by wire name: params are parsed with the contract before `handle` sees them. */
  readonly methods: ReadonlyMap<string, MethodContract<z.ZodType, z.ZodType>>;
  /** Events by wire name that a client may subscribe to. */
  readonly events: ReadonlyMap<string, z.ZodType>;
  /** Runs a parsed call. */
  handle(method: string, params: unknown): Promise<unknown>;
  /** Checks the sender of every message before anything else: null lets it through, a string is why not. */
  authorize(origin: unknown): string | null;
  /** Check results against the contract (a mismatch answers BRIDGE_E_BAD_RESULT); default true. */
  readonly checkResults?: boolean;
}

/** One connection served: subscriptions live as long as it does. */
export interface RpcConnection extends Disposable {
  /** Sends an event to this connection's subscribers of it. */
  emit(event: string, data: unknown): void;
  readonly subscriptionCount: number;
}

const idOf = (m: unknown): number | null => {
  const id = (m as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
};

function problemsOf(e: z.ZodError): { path: string; message: string }[] {
  return e.issues.slice(0, 50).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/**
 * The answering end of the RPC over any port: every message is checked (sender, envelope, method,
 * params) and answered; nothing a client sends can throw out of here. Subscriptions are requests
 * whose id then tags the event messages, as the envelope's stream items.
 */
export function serveRpc(port: RpcPort, o: RpcServerOptions): RpcConnection {
  const subs = new Map<number, string>();
  let open = true;
  const reply = (m: unknown) => {
    if (open) port.send(m);
  };
  const fail = (id: number | null, e: unknown) => reply({ id, ok: false, error: toErrorPayload(e) });

  const onRequest = async (id: number, method: string, params: unknown): Promise<void> => {
    if (method === SUBSCRIBE_METHOD || method === UNSUBSCRIBE_METHOD) {
      const p = (params ?? {}) as Record<string, unknown>;
      if (method === UNSUBSCRIBE_METHOD) {
        subs.delete(typeof p.id === 'number' ? p.id : -1);
        return reply({ id, ok: true, result: { message: 'unsubscribed' } });
      }
      const event = typeof p.event === 'string' ? p.event : '';
      if (!o.events.has(event)) return fail(id, new ArmoryError('BRIDGE_E_UNKNOWN_EVENT', `no event named ${JSON.stringify(event).slice(0, 80)}`));
      if (subs.size >= 256) return fail(id, new ArmoryError('BRIDGE_E_BAD_MESSAGE', 'too many subscriptions on one connection'));
      subs.set(id, event);
      return reply({ id, ok: true, result: { message: 'subscribed' } });
    }
    const contract = o.methods.get(method);
    if (!contract) return fail(id, new ArmoryError('RPC_E_UNKNOWN_METHOD', `no method named ${JSON.stringify(method)}`));
    const parsed = contract.params.safeParse(params);
    if (!parsed.success) {
      const problems = problemsOf(parsed.error);
      return fail(id, new ArmoryError('RPC_E_BAD_PARAMS', `${method}: ${problems.map((p) => `${p.path || '(params)'}: ${p.message}`).join('; ')}`, { method, problems }));
    }
    let result: unknown;
    try {
      result = await o.handle(method, parsed.data);
    } catch (e) {
      return fail(id, e);
    }
    if (o.checkResults !== false) {
      const checked = contract.result.safeParse(result);
      if (!checked.success) return fail(id, new ArmoryError('BRIDGE_E_BAD_RESULT', `${method}: ${problemsOf(checked.error).map((p) => `${p.path}: ${p.message}`).join('; ')}`));
      result = checked.data;
    }
    reply({ id, ok: true, result });
  };

  const listener = port.onMessage((message, origin) => {
    const id = idOf(message);
    let why: string | null;
    try {
      why = o.authorize(origin);
    } catch (e) {
      why = (e as Error).message;
    }
    if (why !== null) return fail(id, new ArmoryError('BRIDGE_E_UNTRUSTED', why));
    const req = requestSchema.safeParse(message);
    if (!req.success) return fail(id, new ArmoryError('BRIDGE_E_BAD_MESSAGE', `not a request: ${problemsOf(req.error).map((p) => `${p.path || '(message)'}: ${p.message}`).join('; ')}`));
    onRequest(req.data.id, req.data.method, req.data.params).catch((e: unknown) => fail(req.data.id, e));
  });
  const closing = port.onClose?.(() => conn.dispose());

  const conn: RpcConnection = {
    emit(event, data) {
      for (const [id, e] of subs) if (e === event) reply({ id, event, data });
    },
    get subscriptionCount() {
      return subs.size;
    },
    dispose() {
      if (!open) return;
      open = false;
      subs.clear();
      listener.dispose();
      closing?.dispose();
    },
  };
  return conn;
}
