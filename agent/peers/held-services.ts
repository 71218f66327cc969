import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SIGNALS } from '../../common/config/names.js';
import { writeFileAtomic } from '../../common/node/fsync.js';

/** Where an agent whose state directory is `agentStateDir` keeps the record (beside held-vips.json). */
export const heldServicesFile = (agentStateDir: string): string => path.join(agentStateDir, 'peers', 'held-services.json');

const entrySchema = z.strictObject({
  service: z.string().min(1).max(63),
  group: z.string().min(1).max(63),
  signal: z.enum(SIGNALS),
  graceMs: z.number().int().min(0).max(3_600_000),
});
const heldSchema = z.array(entrySchema).max(1024);

/** A service failover starts and stops on this node, with how it is stopped. */
export type HeldService = z.output<typeof entrySchema>;

const same = (a: readonly HeldService[], b: readonly HeldService[]): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The services of the failover groups this node is a member of, kept durably for whoever sees the
 * agent die (the keeper, or systemd's ExecStopPost): once the agent is gone the node no longer
 * heartbeats, a standby takes the group over, and a copy of the program left running here would
 * serve (and write) beside the new active. Recorded when the node joins a group, before the group
 * can start anything here, and cleared when it leaves. It names services, not processes: which
 * process runs a service is in the agent's state journal (pid + start time).
 */
export class HeldServices {
  private held: HeldService[];

  constructor(readonly file: string) {
    this.held = readHeldServices(file);
  }

  /** Records a group's services (replacing what was recorded for that group); durable before it resolves. */
  async hold(group: string, services: readonly Omit<HeldService, 'group'>[]): Promise<void> {
    const next = [...this.held.filter((h) => h.group !== group), ...services.map((s) => ({ service: s.service, group, signal: s.signal, graceMs: s.graceMs }))];
    await this.write(next);
  }

  /** Keeps only the groups named (the node left the others). */
  async keep(groups: ReadonlySet<string>): Promise<void> {
    await this.write(this.held.filter((h) => groups.has(h.group)));
  }

  private async write(next: HeldService[]): Promise<void> {
    next.sort((a, b) => a.group.localeCompare(b.group) || a.service.localeCompare(b.service));
    if (same(next, this.held)) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, `${JSON.stringify(next)}\n`);
    this.held = next;
  }
}

/** What the record names; nothing when it is absent or unreadable (then no group could start anything here). */
export function readHeldServices(file: string): HeldService[] {
  try {
    const r = heldSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return r.success ? r.data : [];
  } catch {
    return [];
  }
}
