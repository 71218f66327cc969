import { z } from 'zod';
import {
  desktopChannelSchema,
  emailChannelInputSchema,
  notificationRulesSchema,
  webhookChannelSchema,
  type NotificationSettingsView,
} from '../../../common/bridge/settings.js';

/** E-mail settings as the inventory keeps them: with the SMTP password (the inventory folder is owner-only). */
export const storedEmailSchema = emailChannelInputSchema.omit({ password: true }).extend({ password: z.string().max(1024).nullable() });
export type StoredEmail = z.output<typeof storedEmailSchema>;

const currentSchema = z.object({
  desktop: desktopChannelSchema,
  email: storedEmailSchema.nullable(),
  webhook: webhookChannelSchema.nullable(),
  rules: notificationRulesSchema.default(notificationRulesSchema.parse({})),
});

/**
 * The first inventories held `{ desktop: boolean, email: string | null, webhook: string | null }`
 * (nothing set them but tests): a boolean becomes `{ enabled }`, an address becomes an e-mail channel
 * that is off until its SMTP server is filled in, a URL an enabled webhook.
 */
function upgrade(stored: unknown): unknown {
  if (typeof stored !== 'object' || stored === null) return stored;
  const s = { ...(stored as Record<string, unknown>) };
  if (typeof s.desktop === 'boolean') s.desktop = { enabled: s.desktop };
  if (typeof s.email === 'string') {
    s.email = { enabled: false, host: 'localhost', port: 25, security: 'none', user: null, password: null, from: 'armory@localhost', to: [s.email] };
  }
  if (typeof s.webhook === 'string') s.webhook = { enabled: true, url: s.webhook };
  return s;
}

export const storedNotificationsSchema = z.preprocess(upgrade, currentSchema);
export type StoredNotifications = z.output<typeof storedNotificationsSchema>;

export function defaultNotifications(): StoredNotifications {
  return { desktop: { enabled: true }, email: null, webhook: null, rules: notificationRulesSchema.parse({}) };
}

/** What the GUI may see: everything but the password. */
export function notificationsView(stored: StoredNotifications): NotificationSettingsView {
  const { password, ...email } = stored.email ?? { password: null };
  return {
    desktop: { ...stored.desktop },
    email: stored.email ? { ...(email as Omit<StoredEmail, 'password'>), to: [...stored.email.to], passwordSet: password !== null } : null,
    webhook: stored.webhook ? { ...stored.webhook } : null,
    rules: { ...stored.rules, kinds: [...stored.rules.kinds] },
  };
}
