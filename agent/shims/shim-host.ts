import type { ArmoryConfig } from '../../common/config/document.js';
import type { TlsMaterial } from '../api/tls-server.js';
import { ClientEnd, type ShimJournal } from './client-end.js';
import { limitJournal } from './journal-limiter.js';
import type { ReplyBarrierOf } from './reply-gate.js';
import { configLocator, type ActiveNodeOf, type ServerLocator } from './server-locator.js';
import { ServerEnd } from './server-end.js';
import type { ServiceProcess } from './service-relink.js';

export interface ShimHostOptions {
  /** This node's name and TLS material (shims need an enrolled agent). */
  material: TlsMaterial | null;
  /** Where server ends listen (all addresses by default, so that a VIP reaches them too). */
  serverHost?: string;
  journal: ShimJournal;
  /** Which node runs a service now; failover wires its answer here. Default: the placement. */
  activeNodeOf?: ActiveNodeOf;
  /** Replaces the default locator altogether (tests, or failover). */
  locator?: ServerLocator;
  /** The mirror barrier of a service: what the replies of a shim with waitForMirror wait for. */
  barrierOf?: ReplyBarrierOf;
  /** The main process of a service running here (onMove resend: sessions outlive its death). */
  serviceProcess?: (service: string) => ServiceProcess | null;
}

type End = ClientEnd | ServerEnd;

/**
 * Starts and stops the shim ends a configuration asks of this node: a client end for each shim
 * whose `clients` include the node (or name none), a server end for each shim of a service the
 * node runs. An end whose shim changed is restarted; the others are left alone.
 */
export class ShimHost {
  private readonly ends = new Map<string, { key: string; end: End }>();
  private config: ArmoryConfig | null = null;
  private readonly locator: ServerLocator;
  private warned = false;
  private readonly journal: ShimJournal;

  constructor(private readonly options: ShimHostOptions) {
    this.locator = options.locator ?? configLocator(() => this.config, options.activeNodeOf);
    this.journal = limitJournal(options.journal);
  }

  /** Brings the running ends in line with `config`; `runsHere` are the services this node runs now. */
  async reconcile(config: ArmoryConfig, runsHere: ReadonlySet<string>): Promise<void> {
    this.config = config;
    const material = this.options.material;
    const want = new Map<string, { key: string; make: () => End }>();
    for (const [service, svc] of Object.entries(config.services)) {
      svc.shims.forEach((shim, i) => {
        const key = JSON.stringify(shim);
        if (!material) return;
        if (shim.clients.length === 0 || shim.clients.includes(material.node)) {
          want.set(`${service}#${i}:client`, { key, make: () => new ClientEnd(service, i, shim, material, this.locator, this.journal) });
        }
        if (runsHere.has(service)) {
          want.set(`${service}#${i}:server`, { key, make: () => new ServerEnd(service, i, shim, material, this.options.serverHost ?? '0.0.0.0', this.journal, { barrierOf: this.options.barrierOf ?? null, serviceProcess: this.serviceProcessOf(service) }) });
        }
      });
    }
    if (!material && Object.values(config.services).some((s) => s.shims.length > 0) && !this.warned) {
      this.warned = true;
      this.journal({ service: '', end: 'client', session: null, code: 'SHIM_E_NO_TLS', text: 'session shims are configured but this agent is not enrolled (no cluster certificates): none started' });
    }
    for (const [id, cur] of [...this.ends]) {
      if (want.get(id)?.key === cur.key) continue;
      this.ends.delete(id);
      // A server end no longer wanted: the service stopped running here (or its shim went).
      await stopEnd(cur.end, !want.has(id));
    }
    for (const [id, w] of want) {
      if (this.ends.has(id)) continue;
      const end = w.make();
      try {
        await end.start();
        this.ends.set(id, { key: w.key, end });
      } catch (e) {
        const [service] = id.split('#');
        this.journal({ service: service as string, end: id.endsWith(':client') ? 'client' : 'server', session: null, code: 'SHIM_E_LISTEN', text: `shim end ${id} cannot start: ${(e as Error).message}` });
      }
    }
  }

  /** The running ends (for status and tests). */
  list(): Array<{ id: string; end: End }> {
    return [...this.ends].map(([id, v]) => ({ id, end: v.end }));
  }

  async stop(): Promise<void> {
    const all = [...this.ends.values()];
    this.ends.clear();
    // The agent stops: its services run elsewhere next (a group) or under the next agent.
    await Promise.all(all.map((e) => stopEnd(e.end, true)));
  }

  private serviceProcessOf(service: string): (() => ServiceProcess | null) | null {
    const of = this.options.serviceProcess;
    return of ? () => of(service) : null;
  }
}

function stopEnd(end: End, moved: boolean): Promise<void> {
  return end instanceof ServerEnd ? end.stop(moved) : end.stop();
}
