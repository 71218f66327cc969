import { z } from 'zod';
import { domain } from './domain.js';

/** What a notification is about: a service failed, recovered, moved to another node, or Armory gave up on it. */
export const ALERT_KINDS = ['failure', 'recovery', 'escalation', 'give-up'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const CHANNELS = ['desktop', 'email', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];

export const SMTP_SECURITY = ['starttls', 'tls', 'none'] as const;

const email = z.string().max(254).regex(/^[^\s@<>()",;]+@[^\s@<>()",;]+$/, 'an e-mail address like ops@example.com');
const smtpHost = z.string().regex(/^[A-Za-z0-9.:_-]{1,253}$/, 'a host name or IP address');

/** Desktop notifications: native ones in the desktop app, in the page and through the browser in the console. */
export const desktopChannelSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('show a notification on this computer'),
});

const emailFields = {
  enabled: z.boolean().default(false).describe('send notifications by e-mail'),
  host: smtpHost.describe('the SMTP server'),
  port: z.number().int().min(1).max(65535).default(587).describe('the SMTP port (587 with STARTTLS, 465 with TLS, 25 plain)'),
  security: z.enum(SMTP_SECURITY).default('starttls').describe('starttls: upgrade to TLS (required); tls: TLS from the start; none: plain text (local relays only)'),
  user: z.string().min(1).max(256).nullable().default(null).describe('the SMTP login, or none'),
  from: email.describe('the sender address'),
  to: z.array(email).min(1).max(20).describe('who receives the notifications'),
};

/** E-mail as the GUI sees it: the password is never sent back, only whether one is stored. */
export const emailChannelViewSchema = z.strictObject({ ...emailFields, passwordSet: z.boolean() });

/** E-mail as the GUI sets it: `password` absent keeps the stored one, null removes it. */
export const emailChannelInputSchema = z.strictObject({
  ...emailFields,
  password: z.string().min(1).max(1024).nullable().optional().describe('the SMTP password; leave empty to keep the stored one'),
});

export const webhookChannelSchema = z.strictObject({
  enabled: z.boolean().default(false).describe('POST every notification as JSON to a URL'),
  url: z
    .url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })
    .max(2048)
    .describe('where to POST (Slack, Teams, Mattermost, ntfy or your own receiver)'),
});

export const notificationRulesSchema = z.strictObject({
  kinds: z.array(z.enum(ALERT_KINDS)).max(ALERT_KINDS.length).default([...ALERT_KINDS]).describe('which events notify'),
  groupWindowMs: z.number().int().min(0).max(60_000).default(2000).describe('alerts this close together become one notification'),
  maxPerWindow: z.number().int().min(1).max(1000).default(6).describe('at most this many notifications per rate window (the rest are merged into the next)'),
  rateWindowMs: z.number().int().min(1000).max(3_600_000).default(60_000).describe('the rate window'),
});
export type NotificationRules = z.output<typeof notificationRulesSchema>;

export const notificationSettingsViewSchema = z.strictObject({
  desktop: desktopChannelSchema,
  email: emailChannelViewSchema.nullable(),
  webhook: webhookChannelSchema.nullable(),
  rules: notificationRulesSchema,
});
export type NotificationSettingsView = z.output<typeof notificationSettingsViewSchema>;

export const notificationSettingsInputSchema = z.strictObject({
  desktop: desktopChannelSchema.optional(),
  email: emailChannelInputSchema.nullable().optional(),
  webhook: webhookChannelSchema.nullable().optional(),
  rules: notificationRulesSchema.optional(),
});
export type NotificationSettingsInput = z.input<typeof notificationSettingsInputSchema>;

/** Settings of the desktop app itself; `available` is false in the console, where they mean nothing. */
export const appSettingsSchema = z.strictObject({
  closeToTray: z.boolean().default(true).describe('closing the window keeps Armory in the tray (services run on either way)'),
  startAtLogin: z.boolean().default(false).describe('start Armory in the tray when you log in'),
});
export type AppSettings = z.output<typeof appSettingsSchema>;

export const appSettingsViewSchema = appSettingsSchema.extend({ available: z.boolean() });

export const channelTestResultSchema = z.strictObject({
  channel: z.enum(CHANNELS),
  ok: z.boolean(),
  message: z.string(),
});
export type ChannelTestResult = z.output<typeof channelTestResultSchema>;

export const settingsDomain = domain(
  {
    notifications: { params: z.strictObject({}).optional(), result: notificationSettingsViewSchema },
    setNotifications: { params: notificationSettingsInputSchema, result: notificationSettingsViewSchema },
    /** Sends a test notification through one channel with the stored settings; the answer says what happened. */
    test: { params: z.strictObject({ channel: z.enum(CHANNELS) }), result: channelTestResultSchema },
    app: { params: z.strictObject({}).optional(), result: appSettingsViewSchema },
    setApp: { params: appSettingsSchema.partial(), result: appSettingsViewSchema },
  },
  {
    /** The notification settings changed (from any window or console). */
    changed: notificationSettingsViewSchema,
  },
);
