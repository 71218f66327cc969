import { createHash, type Hash } from 'node:crypto';
import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { fsyncDir } from '../../common/node/fsync.js';
import type { CheckpointMeta } from '../../common/wire/checkpoint-protocol.js';
import { CHECKPOINT_FILE, checkCheckpointFile, checkpointFileName, encodeTrailer } from './checkpoint-file.js';
import { writeFully } from '../../common/node/write-fully.js';

export interface CheckpointStoreOptions {
  /** The service's folder of checkpoints. */
  dir: string;
  keep: number;
  maxSize: number;
  /** This node's name, written into what it saves. */
  node: string;
  /** A stored copy was skipped (truncated, corrupt) or something else worth a journal line. */
  onProblem: (reason: string, detail: Record<string, unknown>) => void;
}

export interface StoredCheckpoint {
  meta: CheckpointMeta;
  file: string;
}

const WRITE_BYTES = 1024 * 1024;

/** A checkpoint being written: bytes go to a temp file; commit makes it durable and visible. */
export class CheckpointWriter {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private done = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly store: CheckpointStore,
    private readonly fh: fsp.FileHandle,
    readonly tmp: string,
    private readonly expected: CheckpointMeta | null,
    private readonly epoch: number,
  ) {}

  get bytes(): number {
    return this.size;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.size + bytes.length > this.store.options.maxSize) {
      throw new ArmoryError('CHECKPOINT_E_TOO_LARGE', `the checkpoint is larger than its bound of ${this.store.options.maxSize} bytes`);
    }
    this.hash.update(bytes);
    this.size += bytes.length;
    // Socket reads are small (64 KB): gather them into writes of about 1 MiB.
    this.pending.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= WRITE_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await writeFully(this.fh, data);
  }

  /** Writes the trailer, fsyncs, renames into place, fsyncs the folder, prunes old versions. */
  async commit(): Promise<StoredCheckpoint> {
    if (this.done) throw new ArmoryError('CHECKPOINT_E_IO', 'the checkpoint was already committed');
    this.done = true;
    try {
      const sha256 = this.hash.digest('hex');
      const exp = this.expected;
      if (exp && (exp.sha256 !== sha256 || exp.size !== this.size)) {
        throw new ArmoryError('CHECKPOINT_E_CORRUPT', `the copy received for checkpoint ${exp.seq} does not match its checksum`, { seq: exp.seq });
      }
      const meta: CheckpointMeta = exp ?? { seq: this.store.takeSeq(), epoch: this.epoch, size: this.size, sha256, savedAt: new Date().toISOString(), node: this.store.options.node };
      await this.flush();
      await this.fh.write(encodeTrailer(meta));
      await this.fh.sync();
      await this.fh.close();
      if (exp) this.store.refuseStale(exp.epoch);
      const file = path.join(this.store.options.dir, checkpointFileName(meta.epoch, meta.seq));
      await fsp.rename(this.tmp, file);
      if (exp) this.store.noteSeq(exp.seq);
      await fsyncDir(this.store.options.dir);
      await this.store.prune();
      return { meta, file };
    } catch (e) {
      await this.abort();
      throw e instanceof ArmoryError ? e : new ArmoryError('CHECKPOINT_E_IO', `cannot store the checkpoint: ${(e as Error).message}`, {}, { cause: e });
    }
  }

  async abort(): Promise<void> {
    this.done = true;
    await this.fh.close().catch(() => undefined);
    await fsp.rm(this.tmp, { force: true });
  }
}

/**
 * A service's checkpoints on disk: N versions kept, each one file checksummed, written atomically
 * (temp → fsync → rename → fsync folder). Ordered by (epoch, seq): a copy from an older epoch is
 * never taken over newer ones. Loading skips a truncated or corrupt copy for the newest valid one.
 */
export class CheckpointStore {
  private nextSeq = -1;

  constructor(readonly options: CheckpointStoreOptions) {}

  private ensureDir(): void {
    try {
      fs.mkdirSync(this.options.dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new ArmoryError('CHECKPOINT_E_IO', `cannot create ${this.options.dir}: ${(e as Error).message}`);
    }
    if (this.nextSeq < 0) this.nextSeq = Math.max(0, ...this.names().map((n) => Number(CHECKPOINT_FILE.exec(n)?.[2] ?? 0))) + 1;
  }

  /** Checkpoint file names, newest first. */
  private names(): string[] {
    let all: string[];
    try {
      all = fs.readdirSync(this.options.dir);
    } catch {
      return [];
    }
    return all.filter((n) => CHECKPOINT_FILE.test(n)).sort().reverse();
  }

  /** A received copy took this number: our own next checkpoint comes after it. */
  noteSeq(seq: number): void {
    this.nextSeq = Math.max(this.nextSeq, seq + 1);
  }

  takeSeq(): number {
    this.ensureDir();
    return this.nextSeq++;
  }

  /** Starts a checkpoint saved by the program on this node, tagged with the current epoch. */
  async beginSave(epoch: number): Promise<CheckpointWriter> {
    return this.open(null, epoch);
  }

  /** Starts a copy replicated from another node; refused when a newer epoch is already stored. */
  async beginReceive(meta: CheckpointMeta): Promise<CheckpointWriter | null> {
    this.ensureDir();
    if (fs.existsSync(path.join(this.options.dir, checkpointFileName(meta.epoch, meta.seq)))) return null;
    this.refuseStale(meta.epoch);
    if (meta.size > this.options.maxSize) throw new ArmoryError('CHECKPOINT_E_TOO_LARGE', `a checkpoint of ${meta.size} bytes is larger than the bound of ${this.options.maxSize}`);
    return this.open(meta, meta.epoch);
  }

  refuseStale(epoch: number): void {
    const newest = this.names()[0];
    const newestEpoch = newest ? Number(CHECKPOINT_FILE.exec(newest)?.[1]) : 0;
    if (newestEpoch > epoch) {
      throw new ArmoryError('CHECKPOINT_E_STALE_EPOCH', `a copy from epoch ${epoch} is older than the stored epoch ${newestEpoch}`, { epoch, stored: newestEpoch });
    }
  }

  private async open(expected: CheckpointMeta | null, epoch: number): Promise<CheckpointWriter> {
    this.ensureDir();
    const tmp = path.join(this.options.dir, `.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
    try {
      const fh = await fsp.open(tmp, 'w', 0o600);
      return new CheckpointWriter(this, fh, tmp, expected, epoch);
    } catch (e) {
      throw new ArmoryError('CHECKPOINT_E_IO', `cannot write in ${this.options.dir}: ${(e as Error).message}`);
    }
  }

  async prune(): Promise<void> {
    for (const n of this.names().slice(this.options.keep)) await fsp.rm(path.join(this.options.dir, n), { force: true });
  }

  /** Every stored checkpoint, newest first, each checked against its checksum. */
  async list(): Promise<(CheckpointMeta & { valid: boolean; problem?: string })[]> {
    const out: (CheckpointMeta & { valid: boolean; problem?: string })[] = [];
    for (const n of this.names()) {
      const m = CHECKPOINT_FILE.exec(n);
      const r = await checkCheckpointFile(path.join(this.options.dir, n), { verify: true });
      if (r.ok) out.push({ ...r.meta, valid: true });
      else {
        const fallback = { seq: Number(m?.[2]), epoch: Number(m?.[1]), size: 0, sha256: '0'.repeat(64), savedAt: '', node: '' };
        out.push({ ...(r.meta ?? fallback), valid: false, problem: r.problem });
      }
    }
    return out;
  }

  /** The newest checkpoint that passes its checksum (or `seq`), skipping damaged ones with an event. */
  async newestValid(seq?: number): Promise<StoredCheckpoint | null> {
    for (const n of this.names()) {
      const m = CHECKPOINT_FILE.exec(n);
      if (seq !== undefined && Number(m?.[2]) !== seq) continue;
      const file = path.join(this.options.dir, n);
      const r = await checkCheckpointFile(file, { verify: true });
      if (r.ok) return { meta: r.meta, file };
      this.options.onProblem(`checkpoint ${Number(m?.[2])} (epoch ${Number(m?.[1])}) ${r.problem}; skipped for an older one`, {
        code: 'CHECKPOINT_E_CORRUPT',
        seq: Number(m?.[2]),
        epoch: Number(m?.[1]),
        file,
      });
    }
    return null;
  }

  /** The stored bytes of a checkpoint (without its trailer). */
  openData(stored: StoredCheckpoint, start = 0): Readable {
    if (stored.meta.size <= start) return Readable.from([]);
    return fs.createReadStream(stored.file, { start, end: stored.meta.size - 1, highWaterMark: 1024 * 1024 });
  }
}
