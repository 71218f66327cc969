import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { ArmoryError } from '../errors/armory-error.js';
import { fsyncDir, writeFileAtomic } from './fsync.js';

/** What the store tells its owner when it had to fall back to the last good copy. */
export interface StoreRecovery {
  file: string;
  problem: string;
  usedBackup: string;
  corruptCopy?: string;
}

export interface DurableFileOptions {
  /** Called when the main file was missing or corrupt and the last good copy was used. */
  onRecovered?: (info: StoreRecovery) => void;
  mode?: number;
}

type Loaded<T> = { ok: true; data: T } | { ok: false; problem: string; missing: boolean };

/**
 * The one durable store of Armory, shaped as a lowdb adapter: whole-document writes through temp →
 * fsync → rename → fsync dir, the previous version kept as the last good copy (`.bak`), reads parsed
 * through a schema. A corrupt file falls back to the last good copy and raises onRecovered; with no
 * good copy it throws STORE_E_CORRUPT. It never silently starts empty over a file that exists.
 */
export class DurableFile<T> {
  private chain: Promise<void> = Promise.resolve();
  readonly backupPath: string;

  constructor(
    readonly file: string,
    private readonly schema: z.ZodType<T>,
    private readonly options: DurableFileOptions = {},
  ) {
    this.backupPath = `${file}.bak`;
  }

  private async load(file: string): Promise<Loaded<T>> {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, problem: 'missing', missing: true };
      return { ok: false, problem: `unreadable: ${(e as Error).message}`, missing: false };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, problem: text.length === 0 ? 'empty file' : 'not valid JSON (truncated or overwritten)', missing: false };
    }
    const parsed = this.schema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      return { ok: false, problem: `does not match its schema (${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'})`, missing: false };
    }
    return { ok: true, data: parsed.data };
  }

  /** lowdb Adapter.read: the document, or null when neither the file nor a backup exists. */
  async read(): Promise<T | null> {
    const main = await this.load(this.file);
    if (main.ok) return main.data;
    const backup = await this.load(this.backupPath);
    if (main.missing && backup.ok === false && backup.missing) return null;
    if (!backup.ok) {
      throw new ArmoryError('STORE_E_CORRUPT', `${this.file} is ${main.problem} and its last good copy is ${backup.problem}; refusing to start empty`, {
        file: this.file,
      });
    }
    let corruptCopy: string | undefined;
    if (!main.missing) {
      corruptCopy = `${this.file}.corrupt-${Date.now()}`;
      await fsp.rename(this.file, corruptCopy).catch(() => (corruptCopy = undefined));
    }
    this.options.onRecovered?.({ file: this.file, problem: main.problem, usedBackup: this.backupPath, ...(corruptCopy ? { corruptCopy } : {}) });
    return backup.data;
  }

  /** lowdb Adapter.write: durable before it resolves; writes are applied in call order. */
  write(data: T): Promise<void> {
    const run = this.chain.then(() => this.writeNow(data));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async writeNow(data: T): Promise<void> {
    const text = `${JSON.stringify(data, null, 2)}\n`;
    try {
      const hadMain = await fsp.stat(this.file).then(
        () => true,
        () => false,
      );
      if (hadMain) {
        const bakTmp = `${this.backupPath}.tmp-${process.pid}`;
        await fsp.rm(bakTmp, { force: true });
        await fsp.link(this.file, bakTmp);
        await fsp.rename(bakTmp, this.backupPath);
      }
      await writeFileAtomic(this.file, text, this.options.mode ?? 0o600);
      if (!hadMain) await fsyncDir(path.dirname(path.resolve(this.file)));
    } catch (e) {
      throw new ArmoryError('STORE_E_IO', `cannot write ${this.file}: ${(e as Error).message}`, { file: this.file }, { cause: e });
    }
  }
}
