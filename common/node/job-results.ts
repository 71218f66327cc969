import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { NAME_PATTERN } from '../config/names.js';
import { ArmoryError } from '../errors/armory-error.js';
import { jobRunSchema, type JobRun } from '../wire/jobs.js';
import { fsyncDir, writeFileAtomic } from './fsync.js';

/** How many runs of one job are kept; older ones are removed with their delivered files. */
const KEEP_RUNS = 50;

/** A file to deliver: its path in the run's folder (outputs/…, stdout), and its bytes or the file to copy them from. */
export type Delivery = { path: string; data: Uint8Array } | { path: string; from: string };

/** A new run id: sortable by time, unique enough for one machine. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, '').replace('T', '-').replace('Z', '')}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The kept results of jobs, on the agent and in the manager home alike: DIR/JOB/RUN/run.json (written
 * atomically and fsynced), the winning replica's files under DIR/JOB/RUN/outputs/ and its stdout in DIR/JOB/RUN/stdout.
 */
export class JobResultStore {
  constructor(readonly root: string) {}

  runDir(job: string, id: string): string {
    return path.join(this.root, job, id);
  }

  /** Copies the winner's files in, durably; returns the paths delivered. */
  async deliver(job: string, id: string, files: readonly Delivery[]): Promise<string[]> {
    const dir = this.runDir(job, id);
    const done: string[] = [];
    for (const f of files) {
      const target = path.resolve(dir, f.path);
      if (!target.startsWith(`${dir}${path.sep}`) || target === path.join(dir, 'run.json')) {
        throw new ArmoryError('JOB_E_BAD_REQUEST', `output path ${f.path} is not a place in the results folder`);
      }
      await fsp.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      const data = 'data' in f ? f.data : await fsp.readFile(f.from);
      await writeFileAtomic(target, data);
      done.push(f.path);
    }
    return done;
  }

  /** Keeps a run's record for good, then drops the oldest runs beyond the limit. */
  async save(run: JobRun): Promise<void> {
    const dir = this.runDir(run.job, run.id);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path.join(dir, 'run.json'), `${JSON.stringify(jobRunSchema.parse(run), null, 2)}\n`);
    await fsyncDir(path.dirname(dir));
    const ids = this.ids(run.job);
    for (const old of ids.slice(0, Math.max(0, ids.length - KEEP_RUNS))) await fsp.rm(this.runDir(run.job, old), { recursive: true, force: true });
  }

  private ids(job: string): string[] {
    try {
      return fs
        .readdirSync(path.join(this.root, job))
        .filter((n) => /^[0-9A-Za-z-]{1,64}$/.test(n))
        .sort();
    } catch {
      return [];
    }
  }

  /** The kept runs of a job, newest first; a run whose record is unreadable is skipped. */
  list(job: string, limit = 10): JobRun[] {
    const runs: JobRun[] = [];
    for (const id of this.ids(job).reverse()) {
      if (runs.length >= limit) break;
      const run = this.read(job, id);
      if (run) runs.push(run);
    }
    return runs;
  }

  /** One kept run, or null when there is none by that id (or its record is unreadable). */
  read(job: string, id: string): JobRun | null {
    if (!/^[0-9A-Za-z-]{1,64}$/.test(id) || !NAME_PATTERN.test(job)) return null;
    try {
      const parsed = jobRunSchema.safeParse(JSON.parse(fs.readFileSync(path.join(this.runDir(job, id), 'run.json'), 'utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      // a run still being written, or a damaged record: not a result to show
      return null;
    }
  }

  /** The jobs that have kept runs (also jobs no longer configured). */
  jobs(): string[] {
    try {
      return fs
        .readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && NAME_PATTERN.test(d.name))
        .map((d) => d.name)
        .sort();
    } catch {
      return [];
    }
  }
}
