import type { BridgeDomains } from '../../../common/bridge/contract.js';
import type { AppSettingsHost } from '../../core/desktop/app-settings-host.js';
import type { NotificationCenter } from '../../core/notifications/notification-center.js';
import type { DomainHandlers } from '../bridge-host.js';
import type { HostContext } from '../host-context.js';

/** Notification channels and the desktop app's settings, kept in the inventory. */
export function settingsHandlers(ctx: HostContext, center: NotificationCenter, app: AppSettingsHost): DomainHandlers<BridgeDomains['settings']> {
  const appView = () => ({ ...ctx.manager.inventory.data.app, available: app.available });
  return {
    notifications: async () => center.settings(),
    setNotifications: async (input) => {
      const view = await center.setSettings(input);
      ctx.emit('settings', 'changed', view);
      return view;
    },
    test: async ({ channel }) => center.test(channel),
    app: async () => appView(),
    setApp: async (change) => {
      const next = { ...ctx.manager.inventory.data.app, ...change };
      // Applied first: a start-at-login entry that cannot be written is not recorded as set.
      if (app.available) await app.apply(next);
      await ctx.manager.inventory.update((d) => (d.app = next));
      return appView();
    },
  };
}
