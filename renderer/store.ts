import type { ArmoryBridge } from '../common/bridge/contract.js';
import type { EventView, NotificationView } from '../common/bridge/events.js';
import type { AvailabilityView, StatusSnapshot } from '../common/bridge/services.js';

type Topic = 'status' | 'events' | 'availability';

/** The most events the page keeps in memory (the Events screen scrolls through all of them). */
export const MAX_EVENTS = 200_000;

/**
 * What every screen shows, kept live from the bridge's events: the status snapshot, the event
 * journal and the availability figures. Screens subscribe to a topic and repaint on the next
 * animation frame, so that bursts of updates cost one paint.
 */
export class Store {
  status: StatusSnapshot | null = null;
  events: EventView[] = [];
  availability = new Map<string, AvailabilityView>();
  private readonly listeners = new Map<Topic, Set<() => void>>();
  private readonly dirty = new Set<Topic>();
  private frame = 0;
  private eventsLoaded: Promise<void> | null = null;

  constructor(
    readonly bridge: ArmoryBridge,
    onNotification: (n: NotificationView) => void,
  ) {
    bridge.services.onStatus((s) => this.setStatus(s));
    bridge.events.onAppended(({ events }) => this.addEvents(events));
    bridge.events.onNotification(onNotification);
    void bridge.services.status().then((s) => this.setStatus(s), () => undefined);
    void this.refreshAvailability();
  }

  setStatus(s: StatusSnapshot): void {
    this.status = s;
    this.touch('status');
  }

  addEvents(events: readonly EventView[]): void {
    if (events.length === 0) return;
    const last = this.events.at(-1)?.seq ?? 0;
    for (const e of events) if (e.seq > last) this.events.push(e);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    this.touch('events');
    if (events.some((e) => e.kind === 'transition')) void this.refreshAvailability();
  }

  /** Loads the journal once (the newest entries), then keeps it live. */
  loadEvents(): Promise<void> {
    this.eventsLoaded ??= this.bridge.events.query({ limit: 100_000 }).then(({ events }) => {
      const newer = this.events;
      this.events = [...events, ...newer.filter((e) => e.seq > (events.at(-1)?.seq ?? 0))];
      this.touch('events');
    });
    return this.eventsLoaded;
  }

  private availabilityTimer = 0;
  refreshAvailability(): Promise<void> {
    if (this.availabilityTimer) return Promise.resolve();
    return new Promise((resolve) => {
      this.availabilityTimer = window.setTimeout(() => {
        this.availabilityTimer = 0;
        this.bridge.services.availability().then((list) => {
          this.availability = new Map(list.map((a) => [`${a.node}/${a.service}`, a]));
          this.touch('availability');
        }, () => undefined).finally(resolve);
      }, 500);
    });
  }

  on(topic: Topic, listener: () => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private touch(topic: Topic): void {
    this.dirty.add(topic);
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.flush());
  }

  private flush(): void {
    this.frame = 0;
    const topics = [...this.dirty];
    this.dirty.clear();
    for (const t of topics) for (const l of this.listeners.get(t) ?? []) l();
  }
}
