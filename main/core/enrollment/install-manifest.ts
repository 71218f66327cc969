import { z } from 'zod';
import { NAME_PATTERN } from '../../../common/config/names.js';

/** How the agent is kept running on its host: a system unit, a user unit, or the keeper. */
export type ServiceManager = 'systemd' | 'systemd-user' | 'keeper';

const absolutePath = z.string().min(1).max(4096).regex(/^\//, 'an absolute path');

/**
 * What an enrollment did on a host, kept there as INSTALL/enrollment.json: removal reads it to undo
 * exactly that (the unit or the keeper and its crontab line, the folders it created), and a second
 * enrollment reads it to stop and, on failure, restart the agent it replaces. It holds no secret.
 */
export const installManifestSchema = z.strictObject({
  format: z.literal('armory-enrollment/1'),
  node: z.string().regex(NAME_PATTERN),
  enrolledAt: z.string().max(64),
  service: z.enum(['systemd', 'systemd-user', 'keeper']),
  /** The Node that runs the agent: the host's own or the shipped runtime. */
  nodePath: absolutePath,
  listen: z.string().min(3).max(300),
  stateDir: absolutePath,
  /** An @reboot line was added to root's crontab (keeper only). */
  crontab: z.boolean(),
  /** Parent folders enrollment created (e.g. /opt), deepest last; removed again when empty. */
  createdDirs: z.array(absolutePath).max(64),
});
export type InstallManifest = z.output<typeof installManifestSchema>;

/** The manifest as found on the host, or null when there is none or it cannot be read. */
export function parseInstallManifest(text: string): InstallManifest | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const r = installManifestSchema.safeParse(value);
  return r.success ? r.data : null;
}
