import fs from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { fsyncDir, writeFileAtomic } from '../../../common/node/fsync.js';
import { drillReportSchema, type DrillReport } from '../../../common/wire/drill.js';

/** How many reports are kept; older ones are removed. */
const KEEP_REPORTS = 200;
const ID = /^[0-9A-Za-z-]{1,64}$/;

/** Drill reports in the manager home: DIR/ID.json, each written atomically and fsynced, read back through the schema. */
export class DrillStore {
  constructor(readonly dir: string) {}

  async save(report: DrillReport): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path.join(this.dir, `${report.id}.json`), `${JSON.stringify(drillReportSchema.parse(report))}\n`);
    await fsyncDir(this.dir);
    const ids = this.ids();
    for (const old of ids.slice(0, Math.max(0, ids.length - KEEP_REPORTS))) fs.rmSync(path.join(this.dir, `${old}.json`), { force: true });
  }

  private ids(): string[] {
    try {
      return fs
        .readdirSync(this.dir)
        .filter((n) => n.endsWith('.json'))
        .map((n) => n.slice(0, -5))
        .filter((id) => ID.test(id))
        .sort();
    } catch {
      return [];
    }
  }

  private read(id: string): DrillReport | null {
    try {
      const r = drillReportSchema.safeParse(JSON.parse(fs.readFileSync(path.join(this.dir, `${id}.json`), 'utf8')));
      return r.success ? r.data : null;
    } catch {
      return null;
    }
  }

  /** The kept reports, newest first (a damaged one is skipped), optionally of one service. */
  list(limit = 20, service?: string): DrillReport[] {
    const out: DrillReport[] = [];
    for (const id of this.ids().reverse()) {
      if (out.length >= limit) break;
      const r = this.read(id);
      if (r && (service === undefined || r.service === service)) out.push(r);
    }
    return out;
  }

  get(id: string): DrillReport {
    const r = ID.test(id) ? this.read(id) : null;
    if (!r) throw new ArmoryError('DRILL_E_UNKNOWN_REPORT', `no drill report "${id}" is kept (armory drill --list)`);
    return r;
  }
}
