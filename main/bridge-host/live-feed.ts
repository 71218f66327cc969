import type { NotificationView } from '../../common/bridge/events.js';
import type { StatusSnapshot } from '../../common/bridge/services.js';
import type { Sequenced } from '../../common/node/append-log.js';
import type { ManagerEventInput } from '../core/events/manager-events.js';
import type { Manager } from '../core/manager.js';
import type { BridgeHost } from './bridge-host.js';
import { NotificationRules } from './notification-rules.js';

export interface LiveFeedOptions {
  /** How often the agents are asked for their status and new events. */
  readonly intervalMs: number;
  /** Sees every batch of new journal entries (the GUI's job runs follow their attempts there). */
  readonly onJournal?: (events: readonly Sequenced<ManagerEventInput>[]) => void;
}

/**
 * Keeps the GUI live: at a steady interval it gathers every node's new events into the journal and
 * asks for the status, then sends what changed — `services.status` when any state changed,
 * `events.appended` with new journal entries, `events.notification` for failures and recoveries
 * (and nodes that stop or start answering). One loop, never overlapping itself.
 */
export class LiveFeed {
  private latest: StatusSnapshot | null = null;
  private latestKey = '';
  private lastSeq: number;
  private readonly rules = new NotificationRules();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly reachable = new Map<string, boolean>();

  constructor(
    private readonly manager: Manager,
    private readonly host: Pick<BridgeHost, 'emit'>,
    private readonly options: LiveFeedOptions,
    private readonly onNotification: (n: NotificationView) => void = () => undefined,
  ) {
    this.lastSeq = manager.events.read({ limit: 1 }).at(-1)?.seq ?? 0;
  }

  start(): void {
    if (this.timer) return;
    // A failed round (a journal that cannot be read) is reported and the next one tried: never a crash.
    const round = () => this.poll().catch((e: unknown) => process.stderr.write(`armory: live feed: ${(e as Error).message}\n`));
    const tick = () => {
      if (this.timer) this.timer = setTimeout(() => void round().finally(tick), this.options.intervalMs);
    };
    this.timer = setTimeout(() => void round().finally(tick), 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The latest snapshot; `fresh` (or none yet) asks the agents now. */
  async status(options: { fresh?: boolean } = {}): Promise<StatusSnapshot> {
    if (options.fresh || !this.latest) await this.poll();
    return this.latest as StatusSnapshot;
  }

  /** One round: events, then status; concurrent callers share the round in progress. */
  poll(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = null));
    return this.running;
  }

  private tell(n: NotificationView): void {
    this.host.emit('events', 'notification', n);
    this.onNotification(n);
  }

  private async round(): Promise<void> {
    for (const node of Object.keys(this.manager.inventory.data.nodes)) await this.manager.collectEvents(node).catch(() => 0);
    const fresh = this.manager.events.read({ since: this.lastSeq });
    if (fresh.length > 0) {
      this.lastSeq = (fresh.at(-1) as { seq: number }).seq;
      this.host.emit('events', 'appended', { events: fresh.slice(-5000) });
      this.options.onJournal?.(fresh);
      for (const e of fresh) {
        const n = this.rules.notify(e);
        if (n) this.tell(n);
      }
    }
    const nodes = (await this.manager.status()).map((n) => ({ ...n, error: n.error ?? null }));
    for (const n of nodes) {
      const was = this.reachable.get(n.node);
      this.reachable.set(n.node, n.reachable);
      if (was !== undefined && was !== n.reachable) {
        const time = new Date().toISOString();
        this.tell({
          id: `${n.node}-reach-${time}`,
          time,
          node: n.node,
          kind: n.reachable ? 'recovery' : 'unreachable',
          severity: n.reachable ? 'info' : 'error',
          title: n.reachable ? `${n.node} answers again` : `${n.node} does not answer`,
          body: n.reachable ? 'Its agent answers over mutual TLS again.' : `${n.error ?? 'no answer'}. Its services keep running under their agent if the node is up.`,
        });
      }
    }
    const key = JSON.stringify(nodes.map((n) => [n.node, n.reachable, n.services.map((s) => [s.name, s.state, s.ready, s.pid, s.restarts, s.health])]));
    this.latest = { at: new Date().toISOString(), nodes };
    if (key !== this.latestKey) {
      this.latestKey = key;
      this.host.emit('services', 'status', this.latest);
    }
  }
}
