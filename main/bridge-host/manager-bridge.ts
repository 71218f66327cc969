import type { NotificationView } from '../../common/bridge/events.js';
import { noAppSettingsHost, type AppSettingsHost } from '../core/desktop/app-settings-host.js';
import type { Manager } from '../core/manager.js';
import { NotificationCenter } from '../core/notifications/notification-center.js';
import { BridgeHost, type BridgeHandlers } from './bridge-host.js';
import { Enrollments } from './enrollments.js';
import { configHandlers } from './handlers/config-handlers.js';
import { drillHandlers } from './handlers/drill-handlers.js';
import { eventsHandlers } from './handlers/events-handlers.js';
import { groupsHandlers } from './handlers/groups-handlers.js';
import { jobsHandlers } from './handlers/jobs-handlers.js';
import { nodesHandlers } from './handlers/nodes-handlers.js';
import { servicesHandlers } from './handlers/services-handlers.js';
import { settingsHandlers } from './handlers/settings-handlers.js';
import type { HostContext } from './host-context.js';
import { JobRuns } from './job-runs.js';
import { LiveFeed } from './live-feed.js';

export interface ManagerBridgeOptions {
  bundleDir: string;
  agentBin: string;
  localAgentPort: number;
  /** How often the agents are polled for status and events; default 1000 ms. */
  pollMs?: number;
  /** Every notification, also for hosts with their own channel (the tray, e-mail). */
  onNotification?: (n: NotificationView) => void;
  /** The desktop app's own settings (start at login, close to tray); the console has none. */
  app?: AppSettingsHost;
}

/**
 * The bridge over the manager core: the handlers of every domain plus the live feed. Hosts (the
 * console, Electron) attach their ports to `host`. A new domain adds its handlers in `handlers`.
 */
export function createManagerBridge(manager: Manager, options: ManagerBridgeOptions): { host: BridgeHost; feed: LiveFeed; notifications: NotificationCenter; close(): void } {
  let host: BridgeHost | null = null;
  const emit: BridgeHost['emit'] = (d, e, data) => host?.emit(d, e, data);
  let feed: LiveFeed | null = null;
  const ctx: HostContext = {
    manager,
    emit,
    bundleDir: options.bundleDir,
    agentBin: options.agentBin,
    localAgentPort: options.localAgentPort,
    status: (o) => (feed as LiveFeed).status(o),
  };
  const notifications = createNotificationCenter(manager, emit);
  const jobRuns = new JobRuns(manager.jobs, (p) => emit('jobs', 'progress', p));
  const handlers: BridgeHandlers = {
    nodes: nodesHandlers(ctx, new Enrollments(ctx)),
    services: servicesHandlers(ctx),
    config: configHandlers(ctx),
    events: eventsHandlers(ctx),
    groups: groupsHandlers(ctx),
    settings: settingsHandlers(ctx, notifications, options.app ?? noAppSettingsHost),
    jobs: jobsHandlers(ctx, jobRuns),
    drill: drillHandlers(ctx),
  };
  host = new BridgeHost(handlers);
  // Nodes that stop or start answering reach e-mail, the webhook and the tray too.
  const onFeedNotification = (n: NotificationView) => {
    options.onNotification?.(n);
    if (n.node && !n.service && (n.kind === 'unreachable' || n.kind === 'recovery')) notifications.onReachability(n.node, n.kind === 'recovery', n.body);
  };
  feed = new LiveFeed(manager, host, { intervalMs: options.pollMs ?? 1000, onJournal: (events) => jobRuns.observe(events) }, onFeedNotification);
  const f = feed;
  const h = host;
  return {
    host: h,
    feed: f,
    notifications,
    close() {
      notifications.close();
      f.stop();
      h.close();
    },
  };
}

/**
 * E-mail, webhook and desktop notifications from the manager's journal (main/core/notifications);
 * a channel that fails is journaled. A test notification is shown in the page of every GUI.
 */
function createNotificationCenter(manager: Manager, emit: BridgeHost['emit']): NotificationCenter {
  const center = new NotificationCenter({
    inventory: manager.inventory,
    journal: manager.events,
    onChannelError: (channel, error) =>
      manager.events.append({ time: new Date().toISOString(), node: 'manager', agentSeq: 0, kind: 'manager', reason: `the ${channel} notification failed: ${error.message}`, detail: { code: error.code } }),
  });
  center.onNotification((n, o) => {
    if (o.test) emit('events', 'notification', n);
  });
  return center.start();
}
