import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../common/node/fsync.js';
import { ip, type IpArgs } from './net-faults.js';

/** Where an agent whose state directory is `agentStateDir` records the network faults it has not undone yet. */
export const drillLeftoversFile = (agentStateDir: string): string => path.join(agentStateDir, 'drill', 'undo.json');

const recordSchema = z.array(z.strictObject({ drill: z.string().max(64), undo: z.array(z.array(z.string().max(64)).max(16)).max(256) })).max(64);
type Undo = z.output<typeof recordSchema>;

/**
 * The undo commands of the network faults a drill made on this node (partition rules, a link set
 * down), kept durably: written before the fault is made, cleared once it is undone. An agent that
 * starts finds what a dead one left behind and undoes it, as HeldVips does for virtual IPs.
 */
export class DrillLeftovers {
  private pending: Undo;

  constructor(readonly file: string) {
    this.pending = read(file);
  }

  /** What is still to undo, by drill. */
  get entries(): readonly { drill: string; undo: readonly IpArgs[] }[] {
    return this.pending;
  }

  /** Records a drill's undo commands (durably) before its fault is made. */
  async record(drill: string, undo: readonly IpArgs[]): Promise<void> {
    await this.write([...this.pending.filter((p) => p.drill !== drill), { drill, undo: undo.map((a) => [...a]) }]);
  }

  /** Runs a drill's undo commands (a command with nothing left to undo counts as done) and forgets them. */
  async undo(drill: string): Promise<string[]> {
    const entry = this.pending.find((p) => p.drill === drill);
    if (!entry) return [];
    const said: string[] = [];
    for (const a of entry.undo) {
      const r = await ip(a);
      said.push(`ip ${a.join(' ')}${r.code === 0 ? '' : ` (nothing to undo: ${r.stderr.trim() || r.code})`}`);
    }
    await this.write(this.pending.filter((p) => p.drill !== drill));
    return said;
  }

  /** Undoes everything recorded (at agent start); says what it did. */
  async undoAll(): Promise<string[]> {
    const said: string[] = [];
    for (const p of [...this.pending]) said.push(...(await this.undo(p.drill)));
    return said;
  }

  private async write(next: Undo): Promise<void> {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, `${JSON.stringify(next)}\n`);
    this.pending = next;
  }
}

function read(file: string): Undo {
  try {
    const r = recordSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return r.success ? r.data : [];
  } catch {
    return [];
  }
}
