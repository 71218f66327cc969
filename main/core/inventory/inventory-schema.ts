import { z } from 'zod';
import { appSettingsSchema } from '../../../common/bridge/settings.js';
import { storedNotificationsSchema } from '../notifications/stored-settings.js';

/** One enrolled node as the manager knows it. */
export const nodeRecordSchema = z.object({
  address: z.string(),
  agentPort: z.number().int().min(1).max(65535),
  /** SHA256 fingerprint of the SSH host key pinned at enrollment (none for the local node). */
  hostKey: z.string().nullable(),
  sshUser: z.string().nullable(),
  sshPort: z.number().int().nullable(),
  profile: z.record(z.string(), z.unknown()).nullable(),
  certificateFingerprint: z.string(),
  certificateExpires: z.string(),
  enrolledAt: z.string(),
  /** How the agent was installed, so that removal undoes exactly that. */
  install: z.record(z.string(), z.unknown()),
  /** The last agent event sequence number the manager has collected (resume point). */
  lastEventSeq: z.number().int().nonnegative(),
});
export type NodeRecord = z.output<typeof nodeRecordSchema>;

export const configVersionSchema = z.object({
  version: z.number().int().min(1),
  issuedAt: z.string(),
  sha256: z.string(),
  file: z.string(),
});

export const inventorySchema = z.object({
  format: z.literal(1),
  cluster: z.string(),
  nodes: z.record(z.string(), nodeRecordSchema),
  configVersions: z.array(configVersionSchema),
  notifications: storedNotificationsSchema,
  /** Settings of the desktop app (close to tray, start at login); absent in inventories written before them. */
  app: appSettingsSchema.default({ closeToTray: true, startAtLogin: false }),
});
export type InventoryDoc = z.output<typeof inventorySchema>;
