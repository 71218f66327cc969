import type { z } from 'zod';
import { bridgeDomains, contractEntries, type BridgeDomains } from '../../common/bridge/contract.js';
import type { BridgeDomain } from '../../common/bridge/domain.js';
import { wireName } from '../../common/bridge/wire-names.js';
import type { RpcPort } from '../../common/rpc/port.js';
import { serveRpc, type RpcConnection } from '../../common/rpc/rpc-server.js';

/** The implementation of one domain: a function per method, given parsed params. */
export type DomainHandlers<D extends BridgeDomain> = {
  readonly [M in keyof D['methods']]: undefined extends z.output<D['methods'][M]['params']>
    ? (params?: z.output<D['methods'][M]['params']>) => Promise<z.input<D['methods'][M]['result']>>
    : (params: z.output<D['methods'][M]['params']>) => Promise<z.input<D['methods'][M]['result']>>;
};

/** The implementation of the whole contract, domain by domain. */
export type BridgeHandlers = { readonly [D in keyof BridgeDomains]: DomainHandlers<BridgeDomains[D]> };

/** Says whether a message's sender may use the bridge: null yes, else why not. */
export type SenderCheck = (origin: unknown) => string | null;

/**
 * The one door into the manager for the GUI. Every message of every attached port is checked
 * (sender first, then envelope, method and params against the contract) before a handler runs; a
 * bad call gets a coded error reply and the host keeps serving. Events go out to the connections
 * that subscribed to them, checked against their schema first.
 */
export class BridgeHost {
  private readonly connections = new Set<RpcConnection>();
  private readonly entries: ReturnType<typeof contractEntries>;
  private readonly handlers = new Map<string, (params: unknown) => Promise<unknown>>();

  constructor(handlers: BridgeHandlers, options: { onEventRejected?: (event: string, why: string) => void } = {}) {
    this.entries = contractEntries(bridgeDomains);
    for (const [d, domainHandlers] of Object.entries(handlers) as [string, Record<string, (p: unknown) => Promise<unknown>>][]) {
      for (const [m, fn] of Object.entries(domainHandlers)) this.handlers.set(wireName(d, m), fn);
    }
    for (const m of this.entries.methods.keys()) if (!this.handlers.has(m)) throw new Error(`bridge-host: no handler for ${m}`);
    this.onEventRejected = options.onEventRejected ?? ((event, why) => process.stderr.write(`armory: bridge event ${event} dropped: ${why}\n`));
  }

  private readonly onEventRejected: (event: string, why: string) => void;

  /** Serves the bridge over one port; `check` runs on every message before anything else. */
  attach(port: RpcPort, check: SenderCheck): RpcConnection {
    const conn = serveRpc(port, {
      methods: this.entries.methods,
      events: this.entries.events,
      authorize: check,
      handle: (method, params) => (this.handlers.get(method) as (p: unknown) => Promise<unknown>)(params),
    });
    this.connections.add(conn);
    const dispose = conn.dispose.bind(conn);
    conn.dispose = () => {
      this.connections.delete(conn);
      dispose();
    };
    port.onClose?.(() => this.connections.delete(conn));
    return conn;
  }

  /** Whether anyone listens to an event (a feed can skip work nobody sees). */
  get connectionCount(): number {
    return this.connections.size;
  }

  emit<D extends keyof BridgeDomains & string, E extends keyof BridgeDomains[D]['events'] & string>(domainName: D, event: E, data: z.input<BridgeDomains[D]['events'][E]>): void {
    if (this.connections.size === 0) return;
    const name = wireName(domainName, event);
    const schema = this.entries.events.get(name) as z.ZodType;
    const parsed = schema.safeParse(data);
    if (!parsed.success) return this.onEventRejected(name, parsed.error.message);
    for (const c of this.connections) c.emit(name, parsed.data);
  }

  close(): void {
    for (const c of [...this.connections]) c.dispose();
  }
}
