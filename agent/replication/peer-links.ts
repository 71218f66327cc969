import { ArmoryError } from '../../common/errors/armory-error.js';
import { ControlClient } from '../../common/node/rpc-client.js';
import type { AgentMethod, ParamsOf, ResultOf } from '../../common/wire/agent-control.js';
import type { TlsMaterial } from '../api/tls-server.js';

const CALL_TIMEOUT_MS = 10_000;

/**
 * The agent's connections to its peers' agents over mutual TLS, one kept per peer, for
 * replication. A broken connection is dropped and the next call dials again.
 */
export class PeerLinks {
  private readonly clients = new Map<string, Promise<ControlClient>>();

  constructor(
    private readonly material: TlsMaterial | null,
    private readonly addressOf: (node: string) => { host: string; port: number } | null,
  ) {}

  get self(): string | null {
    return this.material?.node ?? null;
  }

  private client(node: string): Promise<ControlClient> {
    const existing = this.clients.get(node);
    if (existing) return existing;
    const m = this.material;
    const addr = this.addressOf(node);
    if (!m || !addr) return Promise.reject(new ArmoryError('AGENT_E_UNREACHABLE', `no address known for node ${node}`, { node }));
    const p = ControlClient.connectTls({ ...addr, caPem: m.caPem, certPem: m.certPem, keyPem: m.keyPem, expectName: node, timeoutMs: 3000 });
    this.clients.set(node, p);
    p.then(
      (c) => void c.closed().then(() => this.clients.get(node) === p && this.clients.delete(node)),
      () => this.clients.get(node) === p && this.clients.delete(node),
    );
    return p;
  }

  async call<M extends AgentMethod>(node: string, method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const c = await this.client(node);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new ArmoryError('AGENT_E_UNREACHABLE', `node ${node} did not answer ${method} within ${CALL_TIMEOUT_MS}ms`, { node })), CALL_TIMEOUT_MS);
    });
    try {
      return await Promise.race([c.call(method, params), timeout]);
    } catch (e) {
      if (e instanceof ArmoryError && e.code === 'AGENT_E_UNREACHABLE') this.drop(node);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  drop(node: string): void {
    const p = this.clients.get(node);
    this.clients.delete(node);
    void p?.then((c) => c.close()).catch(() => undefined);
  }

  close(): void {
    for (const n of [...this.clients.keys()]) this.drop(n);
  }
}
