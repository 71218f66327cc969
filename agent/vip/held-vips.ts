import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../common/node/fsync.js';
import { VirtualIp } from './virtual-ip.js';

/** Where an agent whose state directory is `agentStateDir` keeps the file (beside its failover group state). */
export const heldVipsFile = (agentStateDir: string): string => path.join(agentStateDir, 'peers', 'held-vips.json');

const heldSchema = z.array(z.strictObject({ address: z.string().max(64), iface: z.string().max(15) })).max(1024);
type Held = z.output<typeof heldSchema>;

/**
 * The virtual IPs this node's agent may have added, kept durably (written before `ip addr add` can
 * run — the failover runner records every VIP of a group when it joins it — and cleared once the
 * node has left the group and removed them), so that whoever sees the agent die — the keeper, or
 * systemd's ExecStopPost — takes them away at once: an address must not outlive the agent that
 * holds it, or a standby taking over would make two holders. Removing a recorded address that is
 * not configured is a no-op, so recording more than is held is safe.
 */
export class HeldVips {
  private held: Held;

  constructor(readonly file: string) {
    this.held = readHeld(file);
  }

  /** Records the addresses as held (durably) before they are added. */
  async hold(vips: readonly VirtualIp[]): Promise<void> {
    const next = [...this.held];
    for (const v of vips) if (!next.some((h) => h.address === v.address && h.iface === v.iface)) next.push({ address: v.address, iface: v.iface });
    if (next.length !== this.held.length) await this.write(next);
  }

  /** Records the addresses as no longer held, after they were removed. */
  async release(vips: readonly VirtualIp[]): Promise<void> {
    const next = this.held.filter((h) => !vips.some((v) => h.address === v.address && h.iface === v.iface));
    if (next.length !== this.held.length) await this.write(next);
  }

  private async write(next: Held): Promise<void> {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, `${JSON.stringify(next)}\n`);
    this.held = next;
  }
}

/** What the file says is held; nothing when it is absent or unreadable (then nothing was recorded as added). */
function readHeld(file: string): Held {
  try {
    const r = heldSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return r.success ? r.data : [];
  } catch {
    return [];
  }
}

/** Removes every address the file names (already absent counts as removed) and empties it; says what it did. */
export async function releaseHeldVips(file: string): Promise<string[]> {
  const held = readHeld(file);
  const said: string[] = [];
  for (const h of held) {
    const v = new VirtualIp(h.address, h.iface);
    try {
      await v.remove();
      said.push(`removed ${h.address} from ${h.iface}`);
    } catch (e) {
      said.push((e as Error).message);
    }
  }
  if (held.length > 0) await new HeldVips(file).release(held.map((h) => new VirtualIp(h.address, h.iface)));
  return said;
}
