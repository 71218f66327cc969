import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';

export interface AppendLogOptions {
  /** A segment is closed and a new one begun past this size. */
  segmentBytes: number;
  /** Segments kept; older ones are deleted, which bounds the log. */
  segments: number;
}

export type Sequenced<T> = T & { seq: number; time: string };
type Listener<T> = (entry: Sequenced<T>) => void;

const LINE_SEQ = /^\{"seq":(\d+),/;
const SEGMENT = /^(\d{8})\.jsonl$/;

/**
 * An append-only, durable, bounded journal of JSON lines with increasing sequence numbers. Appends are
 * written at once and made durable by a grouped fdatasync shortly after (flush() waits for it); a torn
 * last line after a crash is skipped on read. Readers can ask for everything after a sequence number,
 * so a consumer that reconnects resumes without gaps or duplicates.
 */
export class AppendLog<T extends object> {
  private fd = -1;
  private segment = 0;
  private segmentSize = 0;
  private nextSeq = 1;
  private syncing: Promise<void> | null = null;
  private dirty = false;
  private readonly listeners = new Set<Listener<T>>();

  constructor(
    readonly dir: string,
    private readonly schema: z.ZodType<Sequenced<T>>,
    private readonly options: AppendLogOptions,
  ) {}

  open(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const segs = this.segmentNumbers();
    this.segment = segs.at(-1) ?? 1;
    for (let i = segs.length - 1; i >= 0; i -= 1) {
      const last = this.readSegment(segs[i] as number).at(-1);
      if (last) {
        this.nextSeq = last.seq + 1;
        break;
      }
    }
    this.openSegment();
  }

  private segmentPath(n: number): string {
    return path.join(this.dir, `${String(n).padStart(8, '0')}.jsonl`);
  }

  private segmentNumbers(): number[] {
    return fs
      .readdirSync(this.dir)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  private openSegment(): void {
    const file = this.segmentPath(this.segment);
    this.fd = fs.openSync(file, 'a', 0o600);
    this.segmentSize = fs.fstatSync(this.fd).size;
    // A crash can leave a torn last line: end it so the next entry starts on a line of its own.
    if (this.segmentSize > 0) {
      const last = Buffer.alloc(1);
      const rfd = fs.openSync(file, 'r');
      try {
        fs.readSync(rfd, last, 0, 1, this.segmentSize - 1);
      } finally {
        fs.closeSync(rfd);
      }
      if (last[0] !== 10) this.segmentSize += fs.writeSync(this.fd, '\n');
    }
  }

  private rotate(): void {
    fs.fdatasyncSync(this.fd);
    fs.closeSync(this.fd);
    this.segment += 1;
    this.openSegment();
    const segs = this.segmentNumbers();
    for (const n of segs.slice(0, Math.max(0, segs.length - this.options.segments))) fs.rmSync(this.segmentPath(n), { force: true });
  }

  /** Appends an entry, giving it the next sequence number and the time; durable after flush(). */
  append(entry: T): Sequenced<T> {
    const full = { seq: this.nextSeq, time: new Date().toISOString(), ...entry } as Sequenced<T>;
    this.nextSeq += 1;
    const line = `${JSON.stringify(full)}\n`;
    if (this.segmentSize > 0 && this.segmentSize + Buffer.byteLength(line) > this.options.segmentBytes) this.rotate();
    this.segmentSize += fs.writeSync(this.fd, line);
    this.dirty = true;
    this.scheduleSync();
    for (const l of this.listeners) l(full);
    return full;
  }

  private scheduleSync(): void {
    if (this.syncing) return;
    this.syncing = new Promise<void>((resolve) => {
      const fd = this.fd;
      setImmediate(() => {
        this.dirty = false;
        if (fd < 0 || this.fd !== fd) {
          // closed (close() syncs itself) or rotated (rotate() synced the old segment) meanwhile
          this.syncing = null;
          if (this.dirty && this.fd >= 0) this.scheduleSync();
          resolve();
          return;
        }
        fs.fdatasync(fd, () => {
          this.syncing = null;
          if (this.dirty) this.scheduleSync();
          resolve();
        });
      });
    });
  }

  /** Resolves once every entry appended so far is on disk. */
  async flush(): Promise<void> {
    while (this.syncing) await this.syncing;
  }

  /** The sequence number a line starts with (append writes `{"seq":N,…`), without parsing the rest. */
  private static lineSeq(line: string): number | null {
    const m = LINE_SEQ.exec(line);
    return m ? Number(m[1]) : null;
  }

  /** The first sequence number of a segment (from its first line), or null when it has none. */
  private firstSeq(n: number): number | null {
    let fd = -1;
    try {
      fd = fs.openSync(this.segmentPath(n), 'r');
      const head = Buffer.alloc(64);
      const got = fs.readSync(fd, head, 0, head.length, 0);
      return AppendLog.lineSeq(head.subarray(0, got).toString('utf8'));
    } catch {
      return null;
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }

  /** A segment's valid entries after `since`; lines at or below it are skipped without being parsed. */
  private readSegment(n: number, since = 0): Sequenced<T>[] {
    let text: string;
    try {
      text = fs.readFileSync(this.segmentPath(n), 'utf8');
    } catch {
      return [];
    }
    const out: Sequenced<T>[] = [];
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const seq = AppendLog.lineSeq(line);
      if (seq !== null && seq <= since) continue;
      try {
        const parsed = this.schema.safeParse(JSON.parse(line));
        if (parsed.success) out.push(parsed.data);
      } catch {
        // a torn line from a crash: skipped
      }
    }
    return out;
  }

  /** Entries after `since` (all when absent) that pass the filter, the newest `limit` of them. */
  read(query: { since?: number; limit?: number; filter?: (e: Sequenced<T>) => boolean } = {}): Sequenced<T>[] {
    const since = query.since ?? 0;
    const limit = query.limit ?? Number.MAX_SAFE_INTEGER;
    const out: Sequenced<T>[] = [];
    const segs = this.segmentNumbers();
    segs.forEach((n, i) => {
      // A segment whose successor starts at or below since+1 holds nothing newer: a follower reads only the last one.
      const next = segs[i + 1];
      const nextFirst = next === undefined ? null : this.firstSeq(next);
      if (nextFirst !== null && nextFirst - 1 <= since) return;
      for (const e of this.readSegment(n, since)) if (e.seq > since && (!query.filter || query.filter(e))) out.push(e);
    });
    return limit >= out.length ? out : out.slice(out.length - limit);
  }

  subscribe(listener: Listener<T>): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  close(): void {
    if (this.fd >= 0) {
      fs.fdatasyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}
