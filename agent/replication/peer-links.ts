import { ArmoryError } from '../../common/errors/armory-error.js';
import { ControlClient } from '../../common/node/rpc-client.js';
import type { AgentMethod, ParamsOf, ResultOf } from '../../common/wire/agent-control.js';
import { PROTOCOL_VERSION, WIRE_FEATURE_ATTACHMENTS } from '../../common/wire/protocol.js';
import type { TlsMaterial } from '../api/tls-server.js';

const CALL_TIMEOUT_MS = 10_000;

/** Bytes for a request to a peer: raw when its agent reads attachments, else base64 text (an older agent). */
export function bytesFor(features: ReadonlySet<string>, data: Uint8Array): Uint8Array | string {
  return features.has(WIRE_FEATURE_ATTACHMENTS) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

/** The bytes of a chunk a peer sent (raw, or base64 text from an older agent). */
export function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'base64') : data;
}

/** A connection to a peer's agent and what that agent said it understands (its `hello` features). */
interface Link {
  readonly client: ControlClient;
  readonly features: ReadonlySet<string>;
}

/**
 * The agent's connections to its peers' agents over mutual TLS, one kept per peer, for
 * replication. Each starts with `hello`, which tells what the peer's agent understands (an older
 * agent lists no features). A broken connection is dropped and the next call dials again.
 */
export class PeerLinks {
  private readonly links = new Map<string, Promise<Link>>();

  constructor(
    private readonly material: TlsMaterial | null,
    private readonly addressOf: (node: string) => { host: string; port: number } | null,
  ) {}

  get self(): string | null {
    return this.material?.node ?? null;
  }

  private link(node: string): Promise<Link> {
    const existing = this.links.get(node);
    if (existing) return existing;
    const m = this.material;
    const addr = this.addressOf(node);
    if (!m || !addr) return Promise.reject(new ArmoryError('AGENT_E_UNREACHABLE', `no address known for node ${node}`, { node }));
    const p = (async (): Promise<Link> => {
      const client = await ControlClient.connectTls({ ...addr, caPem: m.caPem, certPem: m.certPem, keyPem: m.keyPem, expectName: node, timeoutMs: 3000 });
      try {
        const hello = await this.bounded(node, 'hello', client.call('hello', { protocol: PROTOCOL_VERSION }));
        return { client, features: new Set(hello.features ?? []) };
      } catch (e) {
        client.close();
        throw e;
      }
    })();
    this.links.set(node, p);
    p.then(
      (l) => void l.client.closed().then(() => this.links.get(node) === p && this.links.delete(node)),
      () => this.links.get(node) === p && this.links.delete(node),
    );
    return p;
  }

  private async bounded<T>(node: string, method: string, call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new ArmoryError('AGENT_E_UNREACHABLE', `node ${node} did not answer ${method} within ${CALL_TIMEOUT_MS}ms`, { node })), CALL_TIMEOUT_MS);
    });
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Calls a method on a peer's agent. `params` may be made for the connection it goes on: from what
   * that peer's agent understands (see WIRE_FEATURE_ATTACHMENTS).
   */
  async call<M extends AgentMethod>(node: string, method: M, params: ParamsOf<M> | ((features: ReadonlySet<string>) => ParamsOf<M>)): Promise<ResultOf<M>> {
    try {
      const l = await this.link(node);
      return await this.bounded(node, method, l.client.call(method, typeof params === 'function' ? params(l.features) : params));
    } catch (e) {
      if (e instanceof ArmoryError && e.code === 'AGENT_E_UNREACHABLE') this.drop(node);
      throw e;
    }
  }

  drop(node: string): void {
    const p = this.links.get(node);
    this.links.delete(node);
    void p?.then((l) => l.client.close()).catch(() => undefined);
  }

  close(): void {
    for (const n of [...this.links.keys()]) this.drop(n);
  }
}
