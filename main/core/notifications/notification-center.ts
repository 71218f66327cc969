import type { NotificationView } from '../../../common/bridge/events.js';
import type { Disposable } from '../../../common/bridge/domain.js';
import type { Channel, ChannelTestResult, NotificationSettingsInput, NotificationSettingsView } from '../../../common/bridge/settings.js';
import { notificationSettingsInputSchema } from '../../../common/bridge/settings.js';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import type { ManagerEvent } from '../events/manager-events.js';
import type { Inventory } from '../inventory/inventory.js';
import { alertFor, emptyAlertMemory, reachabilityAlert, type Alert, type AlertMemory } from './alert-policy.js';
import { sendEmail } from './channels/email-channel.js';
import { postWebhook } from './channels/webhook-channel.js';
import { addAlert, dueAt, emptyBatcher, flush, type BatcherState } from './notification-batcher.js';
import { notificationsView, type StoredEmail, type StoredNotifications } from './stored-settings.js';

/** Where notifications are shown on this machine: the desktop app's native ones, the console's page. */
export type NotificationListener = (n: NotificationView, options: { desktop: boolean; test: boolean }) => void;

export interface NotificationClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: NotificationClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface NotificationCenterOptions {
  readonly inventory: Inventory;
  /** The manager's event journal (AppendLog.subscribe): every event appended from now on. */
  readonly journal: { subscribe(listener: (e: ManagerEvent) => void): Disposable };
  /** A channel failed to deliver (the manager journals it; never an alert itself, so no loop). */
  readonly onChannelError: (channel: Channel, error: ArmoryError) => void;
  readonly clock?: NotificationClock;
}

/**
 * Turns the manager's journal into notifications: the alert policy picks the events, the batcher
 * groups and rate-limits them, and each notification goes to the listeners of this machine (desktop,
 * console page) and to e-mail and the webhook where they are enabled. Settings live in the inventory.
 */
export class NotificationCenter {
  private memory: AlertMemory = emptyAlertMemory();
  private batch: BatcherState = emptyBatcher();
  private timer: unknown = null;
  private subscription: Disposable | null = null;
  private readonly listeners = new Set<NotificationListener>();
  private readonly sending = new Set<Promise<unknown>>();
  private readonly clock: NotificationClock;

  constructor(private readonly o: NotificationCenterOptions) {
    this.clock = o.clock ?? systemClock;
  }

  private get stored(): StoredNotifications {
    return this.o.inventory.data.notifications;
  }

  start(): this {
    this.subscription ??= this.o.journal.subscribe((e) => this.onEvent(e));
    return this;
  }

  close(): void {
    this.subscription?.dispose();
    this.subscription = null;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Resolves when every send under way has ended (tests, and a clean shutdown). */
  async settled(): Promise<void> {
    while (this.sending.size > 0) await Promise.allSettled([...this.sending]);
  }

  onNotification(listener: NotificationListener): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Feeds one journal event through the policy (also what the journal subscription calls). */
  onEvent(e: ManagerEvent): void {
    const r = alertFor(this.memory, e);
    this.memory = r.memory;
    if (r.alert !== null) this.raise(r.alert);
  }

  /** A node's agent stopped or started answering (the live feed sees it; the journal cannot). */
  onReachability(node: string, answers: boolean, reason: string): void {
    this.raise(reachabilityAlert(node, answers, new Date(this.clock.now()).toISOString(), reason));
  }

  private raise(alert: Alert): void {
    if (!this.stored.rules.kinds.includes(alert.kind)) return;
    this.batch = addAlert(this.batch, alert, this.clock.now());
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    const due = dueAt(this.batch, this.stored.rules, this.clock.now());
    if (due === null) return;
    this.timer = this.clock.setTimeout(() => this.flushDue(), Math.max(0, due - this.clock.now()));
  }

  private flushDue(): void {
    this.timer = null;
    const r = flush(this.batch, this.stored.rules, this.clock.now());
    this.batch = r.state;
    if (r.notification) this.dispatch(r.notification);
    this.schedule();
  }

  private track(channel: Channel, p: Promise<unknown>): void {
    const tracked = p.then(
      () => undefined,
      (e: unknown) => this.o.onChannelError(channel, e instanceof ArmoryError ? e : new ArmoryError('NOTIFY_E_DESKTOP', (e as Error).message)),
    );
    this.sending.add(tracked);
    void tracked.finally(() => this.sending.delete(tracked));
  }

  private dispatch(n: NotificationView): void {
    const s = this.stored;
    for (const l of this.listeners) {
      try {
        l(n, { desktop: s.desktop.enabled, test: false });
      } catch (e) {
        this.o.onChannelError('desktop', new ArmoryError('NOTIFY_E_DESKTOP', `cannot show the notification: ${(e as Error).message}`, {}, { cause: e }));
      }
    }
    const cluster = this.o.inventory.data.cluster;
    if (s.email?.enabled) this.track('email', sendEmail(s.email, n, cluster));
    if (s.webhook?.enabled) this.track('webhook', postWebhook(s.webhook.url, n, cluster));
  }

  settings(): NotificationSettingsView {
    return notificationsView(this.stored);
  }

  /** Changes the settings (a part left out stays as it is); the e-mail password is kept unless given or cleared. */
  async setSettings(input: NotificationSettingsInput): Promise<NotificationSettingsView> {
    const parsed = notificationSettingsInputSchema.safeParse(input);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new ArmoryError('NOTIFY_E_SETTINGS', `notification settings: ${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'}`);
    }
    const p = parsed.data;
    await this.o.inventory.update((d) => {
      const cur = d.notifications;
      let email: StoredEmail | null = cur.email;
      if (p.email === null) email = null;
      else if (p.email !== undefined) {
        const { password, ...rest } = p.email;
        email = { ...rest, password: password === undefined ? (cur.email?.password ?? null) : password };
      }
      d.notifications = {
        desktop: p.desktop ?? cur.desktop,
        email,
        webhook: p.webhook === undefined ? cur.webhook : p.webhook,
        rules: p.rules ?? cur.rules,
      };
    });
    this.schedule();
    return this.settings();
  }

  /** Sends a test notification through one channel, enabled or not, and says how it went. */
  async test(channel: Channel): Promise<ChannelTestResult> {
    const s = this.stored;
    const n: NotificationView = {
      id: `test-${this.clock.now().toString(36)}`,
      time: new Date(this.clock.now()).toISOString(),
      kind: 'info',
      severity: 'info',
      title: 'Armory test notification',
      body: `This is a test of the ${channel} channel. Failures, recoveries, escalations and give-ups will arrive like this.`,
    };
    const cluster = this.o.inventory.data.cluster;
    try {
      switch (channel) {
        case 'desktop': {
          if (this.listeners.size === 0) throw new ArmoryError('NOTIFY_E_DESKTOP', 'no window or console page is open to show it');
          for (const l of this.listeners) l(n, { desktop: true, test: true });
          return { channel, ok: true, message: `sent to this computer's Armory window or console${s.desktop.enabled ? '' : ' (desktop notifications are off: real ones are not shown)'}` };
        }
        case 'email':
          if (!s.email) throw new ArmoryError('NOTIFY_E_SETTINGS', 'no SMTP server is set up');
          return { channel, ok: true, message: await sendEmail(s.email, n, cluster) };
        case 'webhook':
          if (!s.webhook) throw new ArmoryError('NOTIFY_E_SETTINGS', 'no webhook URL is set up');
          return { channel, ok: true, message: await postWebhook(s.webhook.url, n, cluster) };
      }
    } catch (e) {
      const err = e instanceof ArmoryError ? e : new ArmoryError('NOTIFY_E_DESKTOP', (e as Error).message);
      return { channel, ok: false, message: `${err.message} [${err.code}]` };
    }
  }
}
