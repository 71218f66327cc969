import { createHash } from 'node:crypto';
import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { MirrorFile, MirrorStatus } from '../../common/wire/mirror-wire.js';
import { fileSha256, linkStaysInside, listTree, STAGING } from './mirror-receiver.js';
import { PeerTarget, type MirrorTarget } from './mirror-target.js';

export interface FolderMirrorOptions {
  service: string;
  folder: string;
  targets: MirrorTarget[];
  lagAlertMs: number;
  scrubMs: number;
  /** Changes a target may have pending before the queue gives way to a full resync. */
  maxPending?: number;
  /** A write is copied once no further event came for it for this long. */
  settleMs?: number;
  event: (reason: string, detail: Record<string, unknown>) => void;
}

type Pending = { kind: 'put' | 'remove' | 'mkdir' | 'symlink' } | { kind: 'rename'; from: string };
type Entry = Pending & { rel: string; since: number; due: number; attempts?: number };

const ATTEMPTS = 5;

const PROBE_MS = 500;
const RECHECK_MS = 30;
/** Events that count as a burst; the quiet after it before the full comparison, or the longest wait. */
const BURST_EVENTS = 1000;
const BURST_QUIET_MS = 500;
const BURST_MAX_MS = 10_000;
const NEW_DIR_RESCAN_MS = [250, 1000];
const LIST_PAGE = 1000;

/** The pending changes of one target and how it is doing. */
class TargetState {
  readonly pending = new Map<string, Entry>();
  /** Paths being copied now, with the time of their oldest uncopied write. */
  readonly inFlight = new Map<string, number>();
  up = true;
  resync: { since: number } | null = null;
  lastError: string | null = null;
  lastScrub: string | null = null;
  repaired = 0;
  /** Bytes of file content sent to the target, and bytes a resumed copy did not send again. */
  sentBytes = 0;
  resumedBytes = 0;
  alerted = false;
  running = false;
  timer: NodeJS.Timeout | null = null;

  constructor(readonly target: MirrorTarget) {}

  oldest(now: number): number | null {
    let min: number | null = this.resync?.since ?? null;
    for (const e of this.pending.values()) if (min === null || e.since < min) min = e.since;
    for (const since of this.inFlight.values()) if (min === null || since < min) min = since;
    return min === null ? null : Math.min(min, now);
  }
}

/**
 * Duplicates every settled write under one folder to each of its targets: chokidar reports the
 * changes; each target has a bounded queue of pending paths (a path pending twice is one entry,
 * the oldest time kept for the lag); a worker copies through the target's atomic receiver,
 * following deletes and renames. A target that is down keeps its queue and is resynced in full
 * when it returns; a queue that overflows gives way to the same full resync, so nothing is ever
 * silently skipped. A scrub compares checksums on a schedule; this side (the active one) wins.
 */
export class FolderMirror {
  private watcher: FSWatcher | null = null;
  private readonly states: TargetState[];
  private readonly inodes = new Map<string, number>();
  private readonly recentUnlinks = new Map<number, { rel: string; at: number }>();
  private readonly maxPending: number;
  private readonly settleMs: number;
  private tick: NodeJS.Timeout | null = null;
  private scrubTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly outsideLinks = new Set<string>();
  private burst: { count: number; since: number | null; going: boolean } = { count: 0, since: null, going: false };
  private burstTimer: NodeJS.Timeout | null = null;

  constructor(readonly options: FolderMirrorOptions) {
    this.states = options.targets.map((t) => new TargetState(t));
    this.maxPending = options.maxPending ?? 100_000;
    this.settleMs = options.settleMs ?? 10;
  }

  async start(): Promise<void> {
    const root = this.options.folder;
    await fsp.mkdir(root, { recursive: true });
    this.watcher = watch(root, {
      ignoreInitial: true,
      followSymlinks: false,
      alwaysStat: true,
      ignored: (p: string) => p === path.join(root, STAGING) || p.startsWith(`${path.join(root, STAGING)}/`),
    });
    const rel = (p: string) => path.relative(root, p);
    this.watcher.on('add', (p, st) => this.onWrite(rel(p), st?.ino));
    this.watcher.on('change', (p, st) => this.onWrite(rel(p), st?.ino));
    this.watcher.on('unlink', (p) => this.onRemove(rel(p)));
    this.watcher.on('addDir', (p) => rel(p) !== '' && this.onNewDir(rel(p)));
    this.watcher.on('unlinkDir', (p) => rel(p) !== '' && this.enqueue(rel(p), { kind: 'remove' }));
    this.watcher.on('error', (e) => this.options.event(`watching ${root} failed: ${(e as Error).message}`, { code: 'MIRROR_E_IO' }));
    await new Promise<void>((resolve) => this.watcher?.once('ready', () => resolve()));
    // Whatever changed while nobody watched: compare in full with each target.
    const now = Date.now();
    for (const s of this.states) {
      s.resync = { since: now };
      this.kick(s);
    }
    this.tick = setInterval(() => this.checkLag(), 250);
    this.tick.unref();
    this.scrubTimer = setInterval(() => void this.scrub().catch(() => undefined), this.options.scrubMs);
    this.scrubTimer.unref();
  }

  private onWrite(rel: string, ino: number | undefined): void {
    if (rel === '') return;
    if (ino !== undefined) {
      const un = this.recentUnlinks.get(ino);
      this.recentUnlinks.delete(ino);
      const prev = this.inodes.get(rel);
      this.inodes.set(rel, ino);
      if (un && Date.now() - un.at < 1000 && prev === undefined) {
        this.enqueue(rel, { kind: 'rename', from: un.rel });
        return;
      }
    }
    this.enqueue(rel, { kind: 'put' });
  }

  /** A new folder: what was written into it before the watch on it began is queued too. */
  private onNewDir(rel: string): void {
    this.enqueue(rel, { kind: 'mkdir' });
    // chokidar watches a new folder only after it noticed it; what was written into it before
    // that has no event. Look now and again once the watch surely stands.
    const look = () => {
      if (this.closed) return;
      void listTree(path.join(this.options.folder, rel), undefined, 100_000, false).then((r) => {
        for (const f of r.files) {
          const full = `${rel}/${f.rel}`;
          if (this.closed || (f.type !== 'dir' && this.inodes.has(full))) continue;
          this.enqueue(full, { kind: f.type === 'dir' ? 'mkdir' : 'put' });
        }
      });
    };
    look();
    for (const ms of NEW_DIR_RESCAN_MS) setTimeout(look, ms).unref();
  }

  private onRemove(rel: string): void {
    const ino = this.inodes.get(rel);
    this.inodes.delete(rel);
    if (ino !== undefined) {
      this.recentUnlinks.set(ino, { rel, at: Date.now() });
      if (this.recentUnlinks.size > 10_000) this.recentUnlinks.clear();
    }
    this.enqueue(rel, { kind: 'remove' });
  }

  /**
   * The kernel's queue of file events is bounded (fs.inotify.max_queued_events), and chokidar
   * watches a new folder only some time after it appeared; past the bound events are dropped and
   * Node does not say so. So after many events, once it is quiet again (or every 10 s while it is
   * not), every target is compared in full (sizes and times): a lost event costs time, never a file.
   */
  private noteBurst(now: number): void {
    this.burst.count += 1;
    this.burst.since ??= now;
    if (this.burst.count < BURST_EVENTS && !this.burst.going) return;
    const fire = (quiet: boolean) => {
      if (this.burstTimer) clearTimeout(this.burstTimer);
      this.burstTimer = null;
      const since = this.burst.since ?? Date.now();
      // A comparison in the middle of a burst is followed by one at its end.
      this.burst = { count: 0, since: null, going: !quiet };
      if (this.closed) return;
      for (const s of this.states) {
        s.resync = { since: Math.min(since, s.resync?.since ?? since) };
        this.kick(s);
      }
    };
    if (now - this.burst.since > BURST_MAX_MS) return fire(false);
    if (this.burstTimer) clearTimeout(this.burstTimer);
    this.burstTimer = setTimeout(() => fire(true), BURST_QUIET_MS);
    this.burstTimer.unref();
  }

  private enqueue(rel: string, p: Pending): void {
    const now = Date.now();
    this.noteBurst(now);
    for (const s of this.states) {
      if (p.kind === 'rename') {
        const prev = s.pending.get(p.from);
        s.pending.delete(p.from);
        // The old name never reached the target: the new one is simply a new file.
        if (prev && prev.kind !== 'remove') p = { kind: 'put' };
      }
      const old = s.pending.get(rel);
      if (old) s.pending.delete(rel);
      s.pending.set(rel, { ...p, rel, since: old?.since ?? now, due: now + this.settleMs });
      if (s.pending.size > this.maxPending) {
        // Backpressure: past the bound, one full resync replaces the per-path queue.
        s.resync = { since: s.oldest(now) ?? now };
        s.pending.clear();
        this.options.event(`more than ${this.maxPending} changes pending for ${s.target.name}; resyncing the whole folder`, { target: s.target.name });
      }
      this.kick(s);
    }
  }

  private kick(s: TargetState, delay = 0): void {
    if (this.closed || s.running || s.timer) return;
    s.timer = setTimeout(() => {
      s.timer = null;
      void this.work(s);
    }, delay);
  }

  private async work(s: TargetState): Promise<void> {
    if (s.running || this.closed) return;
    s.running = true;
    try {
      if (!s.up && (await s.target.available())) {
        s.up = true;
        s.resync ??= { since: s.oldest(Date.now()) ?? Date.now() };
        this.options.event(`mirror target ${s.target.name} is back; catching up`, { target: s.target.name });
      }
      if (s.up) {
        if (s.resync) await this.resync(s, { checksums: false });
        await this.drain(s);
      }
    } catch (e) {
      this.failed(s, e);
    } finally {
      s.running = false;
    }
    if (!s.up) this.kick(s, PROBE_MS);
    else if (s.resync) this.kick(s);
    else if (s.pending.size > 0) {
      const next = Math.min(...[...s.pending.values()].slice(0, 64).map((e) => e.due));
      this.kick(s, Math.max(0, next - Date.now()));
    }
  }

  private failed(s: TargetState, e: unknown): void {
    const err = e instanceof ArmoryError ? e : new ArmoryError('MIRROR_E_IO', (e as Error).message);
    s.lastError = `${err.code}: ${err.message}`;
    if (err.code === 'MIRROR_E_TARGET_DOWN' || err.code === 'AGENT_E_UNREACHABLE') {
      if (s.up) this.options.event(`mirror target ${s.target.name} is down: ${err.message}; its changes are kept until it returns`, { target: s.target.name, code: err.code });
      s.up = false;
    }
  }

  /** Copies every due entry, a few at a time; stops at the first sign that the target is down. */
  private async drain(s: TargetState): Promise<void> {
    const inflight = new Set<Promise<void>>();
    let down: unknown = null;
    for (let guard = 0; guard < 10_000_000 && !down && !this.closed; guard += 1) {
      const now = Date.now();
      let next: Entry | undefined;
      for (const e of s.pending.values()) {
        if (e.due > now) break;
        if (s.inFlight.has(e.rel) || (e.kind === 'rename' && s.inFlight.has(e.from))) continue;
        next = e;
        break;
      }
      if (!next) {
        if (inflight.size === 0) return;
        await Promise.race(inflight);
        continue;
      }
      const entry = next;
      // Anything but a file copy waits for the copies before it (order matters for renames and deletes).
      if (entry.kind !== 'put' && inflight.size > 0) {
        await Promise.all(inflight);
        continue;
      }
      s.pending.delete(entry.rel);
      s.inFlight.set(entry.rel, entry.since);
      const job = this.copy(s, entry)
        .catch((e: unknown) => {
          const code = (e as ArmoryError).code;
          if (code === 'MIRROR_E_TARGET_DOWN' || code === 'AGENT_E_UNREACHABLE') {
            down = e;
            if (!s.pending.has(entry.rel)) s.pending.set(entry.rel, entry);
          } else if ((entry.attempts ?? 0) + 1 < ATTEMPTS) {
            // Tried again a little later (a file changing under the copy, a transient error).
            if (!s.pending.has(entry.rel)) s.pending.set(entry.rel, { ...entry, attempts: (entry.attempts ?? 0) + 1, due: Date.now() + 200 * 2 ** (entry.attempts ?? 0) });
          } else {
            s.lastError = `${code ?? 'MIRROR_E_IO'}: ${(e as Error).message}`;
            this.options.event(`cannot mirror ${entry.rel} to ${s.target.name}: ${(e as Error).message}`, { target: s.target.name, code: code ?? 'MIRROR_E_IO', rel: entry.rel });
          }
        })
        .finally(() => {
          s.inFlight.delete(entry.rel);
          inflight.delete(job);
        });
      inflight.add(job);
      if (inflight.size >= s.target.parallel) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    if (down) throw down;
  }

  /** Applies one pending change to a target. A file that changes while it is copied is queued again. */
  private async copy(s: TargetState, e: Entry): Promise<void> {
    const t = s.target;
    if (e.kind === 'remove') return void (await t.apply({ kind: 'remove', rel: e.rel }));
    if (e.kind === 'mkdir') {
      const st = await fsp.lstat(path.join(this.options.folder, e.rel)).catch(() => null);
      if (st?.isDirectory()) await t.apply({ kind: 'mkdir', rel: e.rel });
      return;
    }
    if (e.kind === 'rename') {
      try {
        await t.apply({ kind: 'rename', from: e.from, to: e.rel });
        return;
      } catch (err) {
        if ((err as ArmoryError).code === 'MIRROR_E_TARGET_DOWN') throw err;
        await t.apply({ kind: 'remove', rel: e.from }).catch(() => undefined);
      }
    }
    const file = path.join(this.options.folder, e.rel);
    const st = await fsp.lstat(file).catch(() => null);
    if (!st) return; // gone meanwhile: its unlink is (or will be) queued
    if (st.isSymbolicLink()) {
      const target = await fsp.readlink(file);
      if (!linkStaysInside(e.rel, target)) {
        if (!this.outsideLinks.has(e.rel)) {
          this.outsideLinks.add(e.rel);
          this.options.event(`${e.rel} is a symbolic link to ${target}, outside ${this.options.folder}: not mirrored`, { code: 'MIRROR_E_SYMLINK_OUTSIDE', rel: e.rel });
        }
        return;
      }
      await t.apply({ kind: 'symlink', rel: e.rel, target });
      return;
    }
    if (st.isDirectory()) return void (await t.apply({ kind: 'mkdir', rel: e.rel }));
    if (!st.isFile()) return;
    if (await this.sendFile(s, e, file, st)) {
      // Timestamps are coarse (a few ms): a write right after this one may leave the same
      // modification time, and chokidar then reports no change. Look again shortly.
      setTimeout(() => void this.recheck(e.rel, st), RECHECK_MS).unref();
    }
  }

  private async recheck(rel: string, sent: Stats): Promise<void> {
    if (this.closed) return;
    const now = await fsp.lstat(path.join(this.options.folder, rel)).catch(() => null);
    if (now?.isFile() && (now.size !== sent.size || now.mtimeMs !== sent.mtimeMs || now.ino !== sent.ino)) this.enqueue(rel, { kind: 'put' });
  }

  /** Copies a file in chunks; true when the target has it, false when it changed meanwhile (queued again). */
  private async sendFile(s: TargetState, e: Entry, file: string, st: Stats): Promise<boolean> {
    const t = s.target;
    const version = `${st.ino}-${st.size}-${st.mtimeMs}`;
    const fh = await fsp.open(file, 'r').catch(() => null);
    if (!fh) return false;
    try {
      const hash = createHash('sha256');
      let hashedTo = 0;
      const buf = Buffer.alloc(Math.min(t.chunkBytes, Math.max(1, st.size)));
      let offset = 0;
      if (st.size > buf.length) {
        // A file of several chunks: ask first how much of this version the target has staged
        // (a copy cut off by a broken link or a restart goes on from there).
        const r = await t.apply({ kind: 'put', rel: e.rel, version, offset: 0, total: st.size, data: new Uint8Array(0) });
        offset = Math.min(r.have ?? 0, st.size);
        if (offset > 0) {
          s.resumedBytes += offset;
          this.options.event(`resuming the copy of ${e.rel} to ${t.name} at byte ${offset} of ${st.size} (already on the target)`, { target: t.name, rel: e.rel, offset, total: st.size });
        }
      }
      for (let rounds = 0; rounds < 10_000_000; rounds += 1) {
        const len = Math.min(buf.length, st.size - offset);
        const { bytesRead } = len > 0 ? await fh.read(buf, 0, len, offset) : { bytesRead: 0 };
        const data = buf.subarray(0, bytesRead);
        if (offset === hashedTo) {
          hash.update(data);
          hashedTo += bytesRead;
        }
        const last = offset + bytesRead >= st.size;
        let final: { sha256: string; mode: number; mtimeMs: number } | undefined;
        if (last) {
          const now = await fh.stat();
          if (now.size !== st.size || now.mtimeMs !== st.mtimeMs) {
            // Still being written: copy it again once it settled.
            this.requeue(s, e);
            return false;
          }
          const sha256 = hashedTo === st.size ? hash.digest('hex') : await fileSha256(file);
          final = { sha256, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
        }
        const r = await t.apply({ kind: 'put', rel: e.rel, version, offset, total: st.size, data, ...(final ? { final } : {}) });
        s.sentBytes += bytesRead;
        const have = r.have ?? offset + bytesRead;
        if (final && have >= st.size) return true;
        // A resumed copy (the target already had part of it) re-reads from where the target is.
        offset = have;
      }
      return false;
    } finally {
      await fh.close();
    }
  }

  private requeue(s: TargetState, e: Entry): void {
    if (!s.pending.has(e.rel)) s.pending.set(e.rel, { ...e, due: Date.now() + this.settleMs });
  }

  /** Compares the whole folder with a target and queues what differs (with checksums: the scrub). */
  private async resync(s: TargetState, options: { checksums: boolean }): Promise<number> {
    const mark = s.resync;
    const since = mark?.since ?? Date.now();
    const theirs = new Map<string, MirrorFile>();
    let after: string | undefined;
    for (let page = 0; page < 100_000; page += 1) {
      const r = await s.target.list(after, LIST_PAGE, options.checksums);
      for (const f of r.files) theirs.set(f.rel, f);
      if (!r.more || r.files.length === 0) break;
      after = r.files.at(-1)?.rel;
    }
    let queued = 0;
    const ours = new Map<string, MirrorFile>();
    for (let a: string | undefined, page = 0; page < 100_000; page += 1) {
      const r = await listTree(this.options.folder, a, LIST_PAGE, options.checksums);
      for (const f of r.files) ours.set(f.rel, f);
      if (!r.more || r.files.length === 0) break;
      a = r.files.at(-1)?.rel;
    }
    const now = Date.now();
    for (const [rel, f] of ours) {
      const o = theirs.get(rel);
      const same =
        o !== undefined &&
        o.type === f.type &&
        (f.type !== 'file' || (o.size === f.size && (options.checksums ? o.sha256 === f.sha256 : Math.abs(o.mtimeMs - f.mtimeMs) < 2))) &&
        (f.type !== 'symlink' || o.target === f.target);
      if (same || s.pending.has(rel)) continue;
      s.pending.set(rel, { kind: f.type === 'dir' ? 'mkdir' : 'put', rel, since: options.checksums ? now : since, due: now });
      queued += 1;
    }
    for (const rel of [...theirs.keys()].sort().reverse()) {
      if (ours.has(rel) || s.pending.has(rel)) continue;
      s.pending.set(rel, { kind: 'remove', rel, since: options.checksums ? now : since, due: now });
      queued += 1;
    }
    // Another comparison asked for meanwhile (a burst) still has to run.
    if (s.resync === mark) s.resync = null;
    return queued;
  }

  /** Compares checksums with every target that is up and repairs the copies that differ. */
  async scrub(): Promise<{ target: string; repaired: number }[]> {
    const out: { target: string; repaired: number }[] = [];
    for (const s of this.states) {
      if (!s.up || this.closed) continue;
      try {
        const repaired = await this.resync(s, { checksums: true });
        s.lastScrub = new Date().toISOString();
        s.repaired += repaired;
        out.push({ target: s.target.name, repaired });
        if (repaired > 0) this.options.event(`scrub found ${repaired} entries of ${s.target.name} wrong or missing; repairing them from this (active) copy`, { target: s.target.name, repaired });
        this.kick(s);
      } catch (e) {
        this.failed(s, e);
        this.kick(s, PROBE_MS);
      }
    }
    return out;
  }

  private checkLag(): void {
    const now = Date.now();
    for (const s of this.states) {
      const oldest = s.oldest(now);
      const lag = oldest === null ? 0 : now - oldest;
      if (!s.alerted && lag > this.options.lagAlertMs) {
        s.alerted = true;
        this.options.event(`mirror of ${this.options.folder} to ${s.target.name} lags ${(lag / 1000).toFixed(1)} s behind (alert above ${this.options.lagAlertMs} ms)`, {
          target: s.target.name,
          lagMs: lag,
          alert: true,
        });
      } else if (s.alerted && lag <= this.options.lagAlertMs / 2) {
        s.alerted = false;
        this.options.event(`mirror of ${this.options.folder} to ${s.target.name} caught up`, { target: s.target.name, lagMs: lag });
      }
    }
  }

  /** The standby nodes (peer targets) that are down or catching up after a gap: not just a few writes behind. */
  laggingNodes(): string[] {
    return this.states.filter((s) => s.target instanceof PeerTarget && (!s.up || s.resync !== null)).map((s) => (s.target as PeerTarget).node);
  }

  /** True when every target holds every change made so far. */
  caughtUp(): boolean {
    return this.states.every((s) => s.pending.size === 0 && s.inFlight.size === 0 && s.resync === null && s.up);
  }

  status(): MirrorStatus[] {
    const now = Date.now();
    return this.states.map((s) => {
      const oldest = s.oldest(now);
      return {
        service: this.options.service,
        target: `${s.target.name}${s.target.name.startsWith('node:') ? `:${this.options.folder}` : ''}`,
        up: s.up,
        pending: s.pending.size + s.inFlight.size,
        lagMs: oldest === null ? 0 : now - oldest,
        resyncing: s.resync !== null,
        lastError: s.lastError,
        lastScrub: s.lastScrub,
        repaired: s.repaired,
        sentBytes: s.sentBytes,
        resumedBytes: s.resumedBytes,
      };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.tick) clearInterval(this.tick);
    if (this.scrubTimer) clearInterval(this.scrubTimer);
    for (const s of this.states) if (s.timer) clearTimeout(s.timer);
    if (this.burstTimer) clearTimeout(this.burstTimer);
    await this.watcher?.close();
  }
}
