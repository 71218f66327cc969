import type { Disposable } from '../bridge/domain.js';
import { SUBSCRIBE_METHOD, UNSUBSCRIBE_METHOD } from '../bridge/wire-names.js';
import type { RpcPort } from './port.js';

/**
 * The calling end of the RPC: requests with ids, answers matched by id, events delivered to their
 * subscribers. Free of zod and of Node, so that the renderer bundle can use it as it is; the host
 * end checks everything it receives, this end trusts its host but never throws on a bad message.
 */
export class RpcCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly context: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'RpcCallError';
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface RpcClientOptions {
  /** A call unanswered after this long fails with BRIDGE_E_TIMEOUT; 0: never. */
  timeoutMs?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Subscription request id → its event and listener. */
  private readonly subscriptions = new Map<number, { event: string; listener: (data: unknown) => void }>();
  private closed: RpcCallError | null = null;
  private readonly timeoutMs: number;
  private readonly disposers: Disposable[] = [];

  constructor(
    private readonly port: RpcPort,
    options: RpcClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.disposers.push(port.onMessage((m) => this.receive(m)));
    if (port.onClose) this.disposers.push(port.onClose(() => this.fail(new RpcCallError('BRIDGE_E_CLOSED', 'the connection to the manager is closed'))));
  }

  /** Calls a method; rejects with an RpcCallError carrying the host's error code. */
  call(method: string, params?: unknown): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer =
        this.timeoutMs > 0
          ? setTimeout(() => {
              this.pending.delete(id);
              reject(new RpcCallError('BRIDGE_E_TIMEOUT', `${method} was not answered within ${this.timeoutMs} ms`));
            }, this.timeoutMs)
          : null;
      this.pending.set(id, { resolve, reject, timer });
      this.port.send(params === undefined ? { id, method } : { id, method, params });
    });
  }

  /** Listens to an event; the subscription is made on the host at once, and dropped by dispose(). */
  subscribe(event: string, listener: (data: unknown) => void): Disposable {
    const id = this.nextId++;
    this.subscriptions.set(id, { event, listener });
    const p = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, timer: null }));
    p.catch(() => this.subscriptions.delete(id));
    if (!this.closed) this.port.send({ id, method: SUBSCRIBE_METHOD, params: { event } });
    return {
      dispose: () => {
        if (!this.subscriptions.delete(id)) return;
        if (!this.closed) this.call(UNSUBSCRIBE_METHOD, { id }).catch(() => undefined);
      },
    };
  }

  close(): void {
    this.fail(new RpcCallError('BRIDGE_E_CLOSED', 'the connection to the manager is closed'));
    this.port.close?.();
  }

  private fail(e: RpcCallError): void {
    if (this.closed) return;
    this.closed = e;
    for (const d of this.disposers.splice(0)) d.dispose();
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
    this.subscriptions.clear();
  }

  private receive(m: unknown): void {
    if (!isObject(m) || typeof m.id !== 'number') return;
    if (typeof m.event === 'string') {
      this.subscriptions.get(m.id)?.listener(m.data);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (p.timer) clearTimeout(p.timer);
    if (m.ok === true) p.resolve(m.result);
    else {
      const e = isObject(m.error) ? m.error : {};
      p.reject(new RpcCallError(typeof e.code === 'string' ? e.code : 'RPC_E_INTERNAL', typeof e.message === 'string' ? e.message : 'the call failed', isObject(e.context) ? e.context : {}));
    }
  }
}
