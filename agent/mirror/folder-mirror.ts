import { createHash } from 'node:crypto';
import { promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { APPEND_BASE_BYTES, type MirrorFile, type MirrorStatus } from '../../common/wire/mirror-wire.js';
import { fileSha256, linkStaysInside, listTree, STAGING, tailSha256 } from './mirror-receiver.js';
import { PeerTarget, type MirrorTarget } from './mirror-target.js';
import { SharedRounds } from './shared-rounds.js';
import { TailWindow } from './tail-window.js';
import { isYoung, TreeWatcher } from './tree-watcher.js';

export interface FolderMirrorOptions {
  service: string;
  folder: string;
  targets: MirrorTarget[];
  lagAlertMs: number;
  scrubMs: number;
  /** Changes a target may have pending before the queue gives way to a full resync. */
  maxPending?: number;
  /**
   * A write is copied this long after it was reported (later writes to a file whose copy waits
   * join that copy: a file written without pause is still copied).
   */
  settleMs?: number;
  /**
   * A file is copied to a target at most once in this long unless a barrier waits: a file written
   * without pause (an AOF) goes as one append per interval, not one per settle (each is a call to
   * a standby, and costs both sides far more CPU than the bytes it carries). Default 50 ms
   * (mirror.interval).
   */
  copyIntervalMs?: number;
  /**
   * A file that only grew since a target got it is shipped as its new bytes (default); false copies
   * every changed file whole (for comparison).
   */
  appends?: boolean;
  /**
   * True when the failover group has heard no heartbeat from this standby node for its failure
   * timeout: its target counts as down at once (a cut link otherwise shows only when a call times
   * out, seconds later, and barriers would wait for it that long).
   */
  peerSilent?: (node: string) => boolean;
  event: (reason: string, detail: Record<string, unknown>) => void;
}

type Pending = { kind: 'put' | 'remove' | 'mkdir' | 'symlink' } | { kind: 'rename'; from: string };
/** A change pending for a target; `seq` is the number of the oldest change it stands for (barriers wait on it). */
type Entry = Pending & { rel: string; since: number; due: number; seq: number; attempts?: number };
/** What this side last queued of a file or link (its version then), and whether a copy may have missed a write. */
type Known = { ino: number; size: number; mtimeMs: number; fresh: boolean };
type Waiter = { mark: number; resolve: () => void; reject: (e: Error) => void };
/** What a target has of a file, as this side sent it: the version and the hash of its last ≤ 4 KiB. */
type Held = { ino: number; size: number; mtimeMs: number; mode: number; tail: string };
type TailResult = 'done' | 'whole' | 'changed';
/** Who saw a change: the watcher (it settles first, and counts toward a burst) or a barrier's own look. */
type Seen = 'watcher' | 'barrier';

const ATTEMPTS = 5;

const PROBE_MS = 500;
const DISK_RETRY_MAX_MS = 10_000;
/** Events that count as a burst; the quiet after it before the full comparison, or the longest wait. */
const BURST_EVENTS = 1000;
const BURST_QUIET_MS = 500;
const BURST_MAX_MS = 10_000;
const NEW_DIR_RESCAN_MS = [250, 1000];
const LIST_PAGE = 1000;
const STAT_BATCH = 64;
const STUCK_RETRY_MS = 5000;
/** Chunks in a row a target answers without taking a byte more before a copy counts as failed. */
const STALLED_ROUNDS = 3;

/** How often a barrier that waits looks whether a standby's heartbeats fell silent. */
const SILENCE_CHECK_MS = 20;

const closedError = (folder: string) => new ArmoryError('MIRROR_E_CLOSED', `the mirror of ${folder} was closed (this node is no longer active for it); the writes before the barrier are not confirmed`, { folder });

/** The pending changes of one target and how it is doing. */
class TargetState {
  readonly pending = new Map<string, Entry>();
  /** Paths being copied now, with the time and number of their oldest uncopied change. */
  readonly inFlight = new Map<string, { since: number; seq: number }>();
  /** The files this target has from us (for appends); forgotten on anything unexpected. */
  readonly held = new Map<string, Held>();
  /** Changes given up after ATTEMPTS failures: a barrier waits for them and retries them. */
  readonly stuck = new Map<string, Entry>();
  /** When a copy of a path last started (forgotten once older than the copy interval). */
  readonly copied = new Map<string, number>();
  up = true;
  /** A target down for a disk error is not tried again before this (its disk is not fixed in a moment). */
  downUntil = 0;
  diskBackoff = 0;
  resync: { since: number; seq: number } | null = null;
  lastError: string | null = null;
  lastScrub: string | null = null;
  repaired = 0;
  /** Bytes of file content sent to the target, and bytes a resumed copy did not send again. */
  sentBytes = 0;
  resumedBytes = 0;
  alerted = false;
  running = false;
  stuckRetried = 0;
  /** Appends the target refused (its copy was not what we sent), and when that was last said. */
  mismatches = 0;
  mismatchSaid = 0;
  timer: NodeJS.Timeout | null = null;

  constructor(readonly target: MirrorTarget) {}

  oldest(now: number): number | null {
    let min: number | null = this.resync?.since ?? null;
    for (const e of this.pending.values()) if (min === null || e.since < min) min = e.since;
    for (const f of this.inFlight.values()) if (min === null || f.since < min) min = f.since;
    return min === null ? null : Math.min(min, now);
  }

  /**
   * The number of the oldest change this target has not confirmed (Infinity: none); it stops
   * looking at the first one numbered `floor` or less (the oldest are first in the queue).
   */
  lowest(floor = 0): number {
    let min = this.resync?.seq ?? Infinity;
    for (const group of [this.inFlight.values(), this.stuck.values(), this.pending.values()]) {
      for (const e of group) {
        min = Math.min(min, e.seq);
        if (min <= floor) return min;
      }
    }
    return min;
  }

  /** Puts an entry back; one already pending for the path takes over its older change. */
  putBack(e: Entry, due: number): void {
    let cur = this.pending.get(e.rel);
    if (!cur) return void this.pending.set(e.rel, { ...e, due });
    const kept = this.carryRename(e, cur, due);
    if (kept.kind === 'rename' && cur.kind !== 'rename') {
      cur = { ...cur, ...kept };
      this.pending.set(e.rel, cur);
    }
    cur.due = Math.min(cur.due, due);
    cur.seq = Math.min(cur.seq, e.seq);
    cur.since = Math.min(cur.since, e.since);
  }

  /**
   * A rename not yet on the target, taken over by a later change `p` of its new name: a copy of the
   * new name stays a rename (followed by the copy's check); anything else still removes the old name.
   */
  carryRename(prev: Entry | undefined, p: Pending, due: number): Pending {
    if (prev?.kind !== 'rename' || p.kind === 'rename') return p;
    if (p.kind === 'put') return { kind: 'rename', from: prev.from };
    if (!this.pending.has(prev.from)) this.pending.set(prev.from, { kind: 'remove', rel: prev.from, since: prev.since, due, seq: prev.seq });
    return p;
  }
}

/**
 * Duplicates every settled write under one folder to each of its targets: a TreeWatcher reports
 * the changes; each target has a bounded queue of pending paths (a path pending twice is one entry,
 * the oldest time kept for the lag); a worker copies through the target's atomic receiver,
 * following deletes and renames. A target that is down keeps its queue and is resynced in full
 * when it returns; a queue that overflows gives way to the same full resync, so nothing is ever
 * silently skipped. A scrub compares checksums on a schedule; this side (the active one) wins.
 *
 * Every queued change has a number; barrier() looks for changes the watcher has not reported yet
 * and resolves once every change numbered up to then is on every target that is up.
 */
export class FolderMirror {
  private watcher: TreeWatcher | null = null;
  private readonly states: TargetState[];
  private readonly inodes = new Map<string, number>();
  private readonly recentUnlinks = new Map<number, { rel: string; at: number }>();
  private readonly maxPending: number;
  private readonly settleMs: number;
  private readonly copyIntervalMs: number;
  private tick: NodeJS.Timeout | null = null;
  private scrubTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly outsideLinks = new Set<string>();
  private burst: { count: number; since: number | null; going: boolean } = { count: 0, since: null, going: false };
  private burstTimer: NodeJS.Timeout | null = null;
  /** The number of the last queued change. */
  private seq = 0;
  /** Files and links as last queued, and folders (by their time) as last listed; '' is the folder itself. */
  private readonly known = new Map<string, Known>();
  private readonly knownDirs = new Map<string, { mtimeMs: number; fresh: boolean }>();
  private readonly children = new Map<string, Set<string>>();
  private readonly scans = new SharedRounds<null, number>(() => this.scan());
  private waiters: Waiter[] = [];
  private silenceTimer: NodeJS.Timeout | null = null;
  private learned: Promise<void> = Promise.resolve();

  constructor(readonly options: FolderMirrorOptions) {
    this.states = options.targets.map((t) => new TargetState(t));
    this.maxPending = options.maxPending ?? 100_000;
    this.settleMs = options.settleMs ?? 10;
    this.copyIntervalMs = options.copyIntervalMs ?? 50;
  }

  async start(): Promise<void> {
    const root = this.options.folder;
    await fsp.mkdir(root, { recursive: true });
    this.watcher = new TreeWatcher(
      root,
      (rel) => rel === STAGING || rel.startsWith(`${STAGING}/`),
      (rel) => this.waitsEverywhere(rel),
    );
    this.watcher.on('add', (rel, st) => this.onWrite(rel, st));
    this.watcher.on('change', (rel, st) => this.onWrite(rel, st));
    this.watcher.on('unlink', (rel) => this.onRemove(rel));
    this.watcher.on('addDir', (rel) => this.onNewDir(rel));
    this.watcher.on('unlinkDir', (rel) => this.enqueue(rel, { kind: 'remove' }));
    this.watcher.on('error', (e) => this.options.event(`watching ${root} failed: ${e.message}`, { code: 'MIRROR_E_IO' }));
    await this.watcher.start();
    // What barriers compare with (they wait for it); what the targets lack is found by the
    // comparison below. Not waited for here: a large folder must not hold up a takeover.
    this.learned = this.readDir('', { isNew: false }).catch((e: unknown) => {
      this.options.event(`listing ${root} for barriers failed: ${(e as Error).message}`, { code: 'MIRROR_E_IO' });
    });
    // Whatever changed while nobody watched: compare in full with each target.
    const now = Date.now();
    const seq = this.nextSeq();
    for (const s of this.states) {
      s.resync = { since: now, seq };
      this.kick(s);
    }
    this.tick = setInterval(() => this.checkLag(), 250);
    this.tick.unref();
    this.scrubTimer = setInterval(() => void this.scrub().catch(() => undefined), this.options.scrubMs);
    this.scrubTimer.unref();
  }

  private nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  private onWrite(rel: string, st: Stats | undefined, by: Seen = 'watcher'): void {
    if (rel === '') return;
    if (st && this.joinsPending(rel, st)) return;
    const ino = st?.ino;
    if (st) this.remember(rel, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, fresh: false });
    if (ino !== undefined) {
      const un = this.recentUnlinks.get(ino);
      this.recentUnlinks.delete(ino);
      const prev = this.inodes.get(rel);
      this.inodes.set(rel, ino);
      if (un && Date.now() - un.at < 1000 && prev === undefined) {
        this.enqueue(rel, { kind: 'rename', from: un.rel }, by);
        return;
      }
    }
    this.enqueue(rel, { kind: 'put' }, by);
  }

  /**
   * A further write to a file whose copy waits on every target (the same inode, nothing given up):
   * that copy reads the file when it starts, so it takes this write too. Only what barriers compare
   * with is updated, in place (a barrier's look under way still compares the file with it): no new
   * change, no timer (a file appended thousands of times a second).
   */
  private joinsPending(rel: string, st: Stats): boolean {
    if (this.inodes.get(rel) !== st.ino || !this.waitsEverywhere(rel)) return false;
    this.seenAs(rel, st, false);
    return true;
  }

  /** Updates what barriers compare a file with, in place when it is known. */
  private seenAs(rel: string, st: Stats, fresh: boolean): void {
    const k = this.known.get(rel);
    if (!k) return this.remember(rel, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, fresh });
    k.ino = st.ino;
    k.size = st.size;
    k.mtimeMs = st.mtimeMs;
    k.fresh = fresh;
  }

  /**
   * Whether a copy of the file waits on every target (none started, nothing given up): a write now
   * is in it, since a copy reads the file when it starts (and remembers what it read for barriers).
   */
  private waitsEverywhere(rel: string): boolean {
    if (!this.inodes.has(rel)) return false;
    for (const s of this.states) if (s.pending.get(rel)?.kind !== 'put' || s.stuck.has(rel)) return false;
    return true;
  }

  private remember(rel: string, k: Known): void {
    this.known.set(rel, k);
    this.childrenOf(path.posix.dirname(rel)).add(rel);
  }

  private childrenOf(dir: string): Set<string> {
    const key = dir === '.' ? '' : dir;
    let c = this.children.get(key);
    if (!c) {
      c = new Set();
      this.children.set(key, c);
    }
    return c;
  }

  /** Drops a path (and all below it) from what barriers compare with. */
  private forget(rel: string): void {
    this.known.delete(rel);
    this.knownDirs.delete(rel);
    const parent = path.posix.dirname(rel);
    this.children.get(parent === '.' ? '' : parent)?.delete(rel);
    const below = this.children.get(rel);
    this.children.delete(rel);
    for (const c of below ?? []) this.forget(c);
  }

  /** A new folder: what was written into it before the watch on it began is queued too. */
  private onNewDir(rel: string): void {
    this.enqueue(rel, { kind: 'mkdir' });
    // The watcher lists a new folder once its watch stands and reports what it held; these looks
    // (now and a little later) are a net for anything written between two of its looks.
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

  private onRemove(rel: string, by: Seen = 'watcher'): void {
    const ino = this.inodes.get(rel);
    this.inodes.delete(rel);
    this.forget(rel);
    if (ino !== undefined) {
      this.recentUnlinks.set(ino, { rel, at: Date.now() });
      if (this.recentUnlinks.size > 10_000) this.recentUnlinks.clear();
    }
    this.enqueue(rel, { kind: 'remove' }, by);
  }

  /**
   * The kernel's queue of file events is bounded (fs.inotify.max_queued_events), and the watcher
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
      // Barriers do not wait for it: their own look finds what the watcher lost.
      for (const s of this.states) {
        s.resync = { since: Math.min(since, s.resync?.since ?? since), seq: s.resync?.seq ?? Infinity };
        this.kick(s);
      }
    };
    if (now - this.burst.since > BURST_MAX_MS) return fire(false);
    if (this.burstTimer) clearTimeout(this.burstTimer);
    this.burstTimer = setTimeout(() => fire(true), BURST_QUIET_MS);
    this.burstTimer.unref();
  }

  private enqueue(rel: string, p: Pending, by: Seen = 'watcher'): void {
    const now = Date.now();
    // Only the watcher's events tell of a kernel queue that may overflow.
    if (by === 'watcher') this.noteBurst(now);
    const settleMs = by === 'watcher' ? this.settleMs : 0;
    const seq = this.nextSeq();
    for (const s of this.states) {
      let first = seq;
      if (p.kind === 'rename') {
        const prev = s.pending.get(p.from);
        s.pending.delete(p.from);
        // The old name never reached the target: the new one is simply a new file.
        if (prev && prev.kind !== 'remove') p = { kind: 'put' };
        if (prev) first = Math.min(first, prev.seq);
      }
      const old = s.pending.get(rel);
      if (old) s.pending.delete(rel);
      const change = s.carryRename(old, p, now);
      // A change given up before is taken over by this one.
      first = Math.min(first, s.stuck.get(rel)?.seq ?? first);
      s.stuck.delete(rel);
      first = Math.min(first, old?.seq ?? first);
      // An entry already due (or one a barrier waits for) is not put off by settling again.
      const due = old && old.due <= now ? old.due : this.awaited(first) ? now : Math.max(now + settleMs, (s.copied.get(rel) ?? 0) + this.copyIntervalMs);
      s.pending.set(rel, { ...change, rel, since: old?.since ?? now, due, seq: first });
      if (s.pending.size > this.maxPending) {
        // Backpressure: past the bound, one full resync replaces the per-path queue.
        s.resync = { since: s.oldest(now) ?? now, seq: s.lowest() };
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
      const silent = s.target instanceof PeerTarget && this.options.peerSilent?.(s.target.node) === true;
      if (!s.up && !silent && Date.now() >= s.downUntil && (await s.target.available())) {
        s.up = true;
        // What it lacks is pending (numbered); the comparison is for what no event told.
        s.resync ??= { since: s.oldest(Date.now()) ?? Date.now(), seq: this.nextSeq() };
        this.options.event(`mirror target ${s.target.name} is back; catching up`, { target: s.target.name });
      }
      if (s.up) {
        if (s.resync) await this.resync(s, { checksums: false });
        await this.drain(s);
        s.diskBackoff = 0;
      }
    } catch (e) {
      this.failed(s, e);
    } finally {
      s.running = false;
      this.checkBarriers();
    }
    if (!s.up) this.kick(s, PROBE_MS);
    else if (s.resync) this.kick(s);
    else if (s.pending.size > 0) {
      const awaited = this.awaitedUpTo();
      const next = [...s.pending.values()].some((e) => e.seq <= awaited) ? 0 : Math.min(...[...s.pending.values()].slice(0, 64).map((e) => e.due));
      this.kick(s, Math.max(0, next - Date.now()));
    }
  }

  private failed(s: TargetState, e: unknown): void {
    const err = e instanceof ArmoryError ? e : new ArmoryError('MIRROR_E_IO', (e as Error).message);
    s.lastError = `${err.code}: ${err.message}`;
    if (err.code === 'MIRROR_E_TARGET_DOWN' || err.code === 'AGENT_E_UNREACHABLE') {
      if (s.up) this.options.event(`mirror target ${s.target.name} is down: ${err.message}; its changes are kept until it returns`, { target: s.target.name, code: err.code });
      s.up = false;
      // A full or failing disk answers "available" at once and fails the catch-up again: while
      // it does, it is tried less and less often (up to every 10 s), and no barrier waits for it.
      if (typeof err.context.errno === 'string') {
        s.diskBackoff = Math.min(Math.max(PROBE_MS, s.diskBackoff * 2), DISK_RETRY_MAX_MS);
        s.downUntil = Date.now() + s.diskBackoff;
      }
      this.checkBarriers();
    }
  }

  /** Copies every due entry, a few at a time; stops at the first sign that the target is down. */
  private async drain(s: TargetState): Promise<void> {
    const inflight = new Set<Promise<void>>();
    let down: unknown = null;
    for (let guard = 0; guard < 10_000_000 && !down && !this.closed; guard += 1) {
      const now = Date.now();
      // Changes a barrier waits for go without settling (entries are in order of due time otherwise).
      const awaited = this.awaitedUpTo();
      let next: Entry | undefined;
      for (const e of s.pending.values()) {
        if (e.due > now && (e.seq > awaited || (e.attempts ?? 0) > 0)) {
          if (awaited === 0) break;
          continue;
        }
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
      s.inFlight.set(entry.rel, { since: entry.since, seq: entry.seq });
      if (entry.kind === 'put') s.copied.set(entry.rel, now);
      const job = this.copy(s, entry)
        .catch((e: unknown) => {
          const code = (e as ArmoryError).code;
          if (code === 'MIRROR_E_TARGET_DOWN' || code === 'AGENT_E_UNREACHABLE') {
            down = e;
            s.putBack(entry, entry.due);
          } else if ((entry.attempts ?? 0) + 1 < ATTEMPTS) {
            // Tried again a little later (a file changing under the copy, a transient error).
            s.putBack({ ...entry, attempts: (entry.attempts ?? 0) + 1 }, Date.now() + 200 * 2 ** (entry.attempts ?? 0));
          } else {
            s.lastError = `${code ?? 'MIRROR_E_IO'}: ${(e as Error).message}`;
            // Not confirmed: a barrier waits for it (and tries it again).
            const had = s.stuck.get(entry.rel);
            s.stuck.set(entry.rel, { ...entry, seq: Math.min(entry.seq, had?.seq ?? entry.seq) });
            this.options.event(`cannot mirror ${entry.rel} to ${s.target.name}: ${(e as Error).message}`, { target: s.target.name, code: code ?? 'MIRROR_E_IO', rel: entry.rel });
          }
        })
        .finally(() => {
          s.inFlight.delete(entry.rel);
          inflight.delete(job);
          this.checkBarriers();
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
    // Anything but a file copy leaves something else than what the target had of the path.
    const heldBefore = s.held.get(e.rel);
    if (e.kind !== 'put') s.held.delete(e.rel);
    if (e.kind === 'remove') {
      // A folder (nothing was held at its path): what was held below it goes with it.
      if (!heldBefore) for (const rel of s.held.keys()) if (rel.startsWith(`${e.rel}/`)) s.held.delete(rel);
      return void (await t.apply({ kind: 'remove', rel: e.rel }));
    }
    if (e.kind === 'mkdir') {
      const st = await fsp.lstat(path.join(this.options.folder, e.rel)).catch(() => null);
      if (st?.isDirectory()) await t.apply({ kind: 'mkdir', rel: e.rel });
      return;
    }
    if (e.kind === 'rename') {
      const from = s.held.get(e.from);
      s.held.delete(e.from);
      try {
        await t.apply({ kind: 'rename', from: e.from, to: e.rel });
        // Then checked like a copy: a rename is guessed from an inode number seen again soon after
        // an unlink, and inode numbers are reused (a new file may have the number of one removed).
        if (from) s.held.set(e.rel, from);
      } catch (err) {
        if ((err as ArmoryError).code === 'MIRROR_E_TARGET_DOWN') throw err;
        await t.apply({ kind: 'remove', rel: e.from }).catch(() => undefined);
      }
    }
    const file = path.join(this.options.folder, e.rel);
    const looked = Date.now();
    const st = await fsp.lstat(file).catch(() => null);
    if (!st) return; // gone meanwhile: its unlink is (or will be) queued
    // What is copied now is what barriers compare with: writes the watcher did not report while
    // this copy waited (see waitsEverywhere) are in it. A write right after this look may keep this
    // time (a coarse clock): the next barrier copies it again.
    if (this.inodes.get(e.rel) === st.ino) this.seenAs(e.rel, st, isYoung(st.mtimeMs, looked));
    else if (isYoung(st.mtimeMs, looked)) {
      const k = this.known.get(e.rel);
      if (k) k.fresh = true;
      else this.remember(e.rel, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, fresh: true });
    }
    if (!st.isFile()) s.held.delete(e.rel);
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
    const held = s.held.get(e.rel);
    const tail = held && (this.options.appends !== false || e.kind === 'rename') ? await this.sendTail(s, e, file, st, held) : 'whole';
    // A write after the look above is reported by the watcher (every write, whatever its time).
    if (tail !== 'changed' && tail !== 'done') await this.sendFile(s, e, file, st);
  }

  /**
   * A file the target has an older version of: when it only grew (same inode, larger, and its bytes
   * before the target's size still end as the target's copy does), sends the new bytes as appends.
   * 'whole' when it did not only grow or the target's copy is not what we sent (then the caller
   * copies it whole), 'changed' when it was queued again. Only the last ≤ 4 KiB are compared: a
   * file rewritten further up and grown is not seen here; the scrub (checksums) is the net for it.
   */
  private async sendTail(s: TargetState, e: Entry, file: string, st: Stats, held: Held): Promise<TailResult> {
    if (st.ino !== held.ino || st.size < held.size || (st.mode & 0o7777) !== held.mode) return 'whole';
    const t = s.target;
    const fh = await fsp.open(file, 'r').catch(() => null);
    if (!fh) return 'changed'; // gone meanwhile: its unlink is (or will be) queued
    try {
      const start = Math.max(0, held.size - APPEND_BASE_BYTES);
      const before = Buffer.alloc(held.size - start);
      if ((await fh.read(before, 0, before.length, start)).bytesRead !== before.length) return 'whole';
      const window = new TailWindow(before, held.size);
      if (window.sha256(held.size) !== held.tail) return 'whole';
      // Same size and end but another time: rewritten in place, copied whole. Same time too: nothing
      // new, but the target may have lost its copy (a disk swapped): an empty append checks that.
      if (st.size === held.size && st.mtimeMs !== held.mtimeMs) return 'whole';
      const buf = Buffer.alloc(Math.max(1, Math.min(t.chunkBytes, st.size - held.size)));
      let offset = held.size;
      let base = held.tail;
      for (let rounds = 0; rounds < 10_000_000 && (offset < st.size || rounds === 0); rounds += 1) {
        const { bytesRead } = offset < st.size ? await fh.read(buf, 0, Math.min(buf.length, st.size - offset), offset) : { bytesRead: 0 };
        if (bytesRead === 0 && offset < st.size) return 'whole'; // shrank meanwhile
        const data = buf.subarray(0, bytesRead);
        const last = offset + bytesRead >= st.size;
        if (last && !(await this.onlyGrew(fh, st))) {
          this.requeue(s, e);
          return 'changed';
        }
        const final = last ? { size: st.size, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs } : undefined;
        const r = await t.apply({ kind: 'append', rel: e.rel, offset, base, data, ...(final ? { final } : {}) });
        if (r.mismatch) {
          s.held.delete(e.rel);
          s.mismatches += 1;
          // Said once in a while (a target that lost its disk answers this for every file).
          if (Date.now() - s.mismatchSaid > 10_000) {
            s.mismatchSaid = Date.now();
            this.options.event(`the copy of ${e.rel} on ${t.name} is not what was sent to it (${r.have ?? '?'} bytes, expected ${offset}); copying it whole (${s.mismatches} such copies so far)`, { target: t.name, rel: e.rel });
          }
          return 'whole';
        }
        s.sentBytes += bytesRead;
        window.push(data, offset);
        offset += bytesRead;
        base = window.sha256(offset) ?? '';
        // What the target has now (a cut-off append goes on from here next time).
        s.held.set(e.rel, { ino: st.ino, size: offset, mtimeMs: last ? st.mtimeMs : Number.NaN, mode: st.mode & 0o7777, tail: base });
      }
      return 'done';
    } catch (err) {
      const code = (err as ArmoryError).code;
      if (code === 'MIRROR_E_TARGET_DOWN' || code === 'AGENT_E_UNREACHABLE') throw err;
      // (A receiver that does not know appends, a read error:) the whole copy decides.
      s.held.delete(e.rel);
      return 'whole';
    } finally {
      await fh.close();
    }
  }

  /**
   * Whether the file is still the version `st` (or, with appends, that version grown by new bytes:
   * what was read up to st.size is then still a state the file had, and the growth comes next).
   */
  private async onlyGrew(fh: FileHandle, st: Stats): Promise<boolean> {
    const now = await fh.stat();
    if (now.size === st.size && now.mtimeMs === st.mtimeMs) return true;
    return this.options.appends !== false && now.ino === st.ino && now.size > st.size;
  }

  /** Copies a file in chunks; true when the target has it, false when it changed meanwhile (queued again). */
  private async sendFile(s: TargetState, e: Entry, file: string, st: Stats): Promise<boolean> {
    const t = s.target;
    const version = `${st.ino}-${st.size}-${st.mtimeMs}`;
    const fh = await fsp.open(file, 'r').catch(() => null);
    if (!fh) return false;
    try {
      // Replaced between the look and the open (a rename over it): this is another file, maybe
      // shorter than `st` says; it is copied once it settled (its own event is queued).
      if ((await fh.stat()).ino !== st.ino) {
        this.requeue(s, e);
        return false;
      }
      const window = new TailWindow();
      const hash = createHash('sha256');
      let hashedTo = 0;
      let sha256: string | null = null;
      const buf = Buffer.alloc(Math.min(t.chunkBytes, Math.max(1, st.size)));
      let offset = 0;
      let stalled = 0;
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
        if (bytesRead === 0 && len > 0) {
          // Shrank meanwhile (truncated in place): copied again once it settled.
          this.requeue(s, e);
          return false;
        }
        const data = buf.subarray(0, bytesRead);
        if (offset === hashedTo) {
          hash.update(data);
          hashedTo += bytesRead;
        }
        window.push(data, offset);
        const last = offset + bytesRead >= st.size;
        let final: { sha256: string; mode: number; mtimeMs: number } | undefined;
        if (last) {
          if (!(await this.onlyGrew(fh, st))) {
            // Still being written: copy it again once it settled.
            this.requeue(s, e);
            return false;
          }
          // Once: a final chunk the target could not keep (its disk filled) is sent again from where it is.
          sha256 ??= hashedTo === st.size ? hash.digest('hex') : await fileSha256(file);
          final = { sha256, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
        }
        const r = await t.apply({ kind: 'put', rel: e.rel, version, offset, total: st.size, data, ...(final ? { final } : {}) });
        s.sentBytes += bytesRead;
        const have = r.have ?? offset + bytesRead;
        if (final && have >= st.size) {
          const tail = window.sha256(st.size) ?? (await tailSha256(fh, st.size));
          s.held.set(e.rel, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777, tail });
          return true;
        }
        // A resumed copy (the target already had part of it) re-reads from where the target is.
        // A target that keeps answering with no progress is an error (retried later), not a loop.
        stalled = have > offset ? 0 : stalled + 1;
        if (stalled >= STALLED_ROUNDS) throw new ArmoryError('MIRROR_E_IO', `the copy of ${e.rel} to ${t.name} makes no progress: the target stays at byte ${have} of ${st.size}`, { rel: e.rel });
        offset = have;
      }
      return false;
    } finally {
      await fh.close();
    }
  }

  private requeue(s: TargetState, e: Entry): void {
    // A rename is applied before its file is checked: what is left to do is a copy (applying the
    // rename again would move whatever the old name holds by then).
    const left: Entry = e.kind === 'rename' ? { kind: 'put', rel: e.rel, since: e.since, due: e.due, seq: e.seq, ...(e.attempts !== undefined ? { attempts: e.attempts } : {}) } : e;
    s.putBack(left, Date.now() + (this.awaited(e.seq) ? 0 : this.settleMs));
  }

  /** Whether a barrier waits for the change numbered `seq`. */
  private awaited(seq: number): boolean {
    return seq <= this.awaitedUpTo();
  }

  /** The number of the last change a barrier waits for (0: none). */
  private awaitedUpTo(): number {
    let max = 0;
    for (const w of this.waiters) max = Math.max(max, w.mark);
    return max;
  }

  /** Compares the whole folder with a target and queues what differs (with checksums: the scrub). */
  private async resync(s: TargetState, options: { checksums: boolean }): Promise<number> {
    // After the first listing for barriers: what it remembers must be what this comparison saw or newer.
    await this.learned;
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
    const seq = mark?.seq ?? this.nextSeq();
    for (const [rel, f] of ours) {
      const o = theirs.get(rel);
      const same =
        o !== undefined &&
        o.type === f.type &&
        (f.type !== 'file' || (o.size === f.size && (options.checksums ? o.sha256 === f.sha256 : Math.abs(o.mtimeMs - f.mtimeMs) < 2))) &&
        (f.type !== 'symlink' || o.target === f.target);
      if (same) s.stuck.delete(rel);
      // A copy whose checksum differs is copied whole (its end may well be right).
      else if (options.checksums) s.held.delete(rel);
      if (same || this.alsoPending(s, rel, seq)) continue;
      s.pending.set(rel, { kind: f.type === 'dir' ? 'mkdir' : 'put', rel, since: options.checksums ? now : since, due: now, seq });
      queued += 1;
    }
    for (const rel of [...theirs.keys()].sort().reverse()) {
      if (ours.has(rel) || this.alsoPending(s, rel, seq)) continue;
      s.pending.set(rel, { kind: 'remove', rel, since: options.checksums ? now : since, due: now, seq });
      queued += 1;
    }
    for (const rel of s.stuck.keys()) if (!ours.has(rel) && !theirs.has(rel)) s.stuck.delete(rel);
    // Another comparison asked for meanwhile (a burst) still has to run.
    if (s.resync === mark) s.resync = null;
    this.checkBarriers();
    return queued;
  }

  /**
   * True when a change of the path is pending already: it then stands for the comparison's change
   * too, so it takes the comparison's number if that is older (a barrier waiting for the comparison
   * waits for it; it may have been queued after the barrier's look, numbered after its mark).
   */
  private alsoPending(s: TargetState, rel: string, seq: number): boolean {
    const p = s.pending.get(rel);
    if (p) p.seq = Math.min(p.seq, seq);
    return p !== undefined;
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

  /** A standby whose group heartbeats fell silent is down for the mirror too (its changes are kept; it is resynced when back). */
  private checkSilence(): void {
    const silent = this.options.peerSilent;
    if (!silent) return;
    for (const s of this.states) {
      if (s.up && s.target instanceof PeerTarget && silent(s.target.node)) {
        this.failed(s, new ArmoryError('MIRROR_E_TARGET_DOWN', `the failover group hears no heartbeat from ${s.target.node}`, { node: s.target.node }));
        this.kick(s, PROBE_MS);
      }
    }
  }

  private checkLag(): void {
    this.checkSilence();
    const now = Date.now();
    for (const s of this.states) for (const [rel, at] of s.copied) if (now - at >= this.copyIntervalMs) s.copied.delete(rel);
    // Changes given up on hold the barriers waiting for them: they are tried again now and then.
    for (const s of this.states) {
      if (this.waiters.length === 0 || !s.up || s.stuck.size === 0 || now - s.stuckRetried < STUCK_RETRY_MS) continue;
      this.retryStuck(s, now);
      this.kick(s);
    }
    this.checkBarriers();
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

  /**
   * Resolves once every change made under the folder before the call is written and fsynced on
   * every target that is up. It does not wait for the watcher: it compares each known file's
   * (inode, size, time) and each known folder's time with what was last queued, lists the folders
   * whose time changed, and queues what differs at once; then it waits until those changes and
   * everything queued before them are confirmed by each target that is up. A target that fails is
   * marked down and no longer waited for; while no target is up, the barrier holds until one is
   * back and has confirmed. Barriers called together share one look (see SharedRounds). Rejects
   * with MIRROR_E_CLOSED when the mirror is closed first (the node is no longer active).
   */
  async barrier(): Promise<void> {
    if (this.closed) throw closedError(this.options.folder);
    if (this.states.length === 0) throw new ArmoryError('MIRROR_E_NOT_ACTIVE', `the mirror of ${this.options.folder} has no target`, { folder: this.options.folder });
    const mark = await this.scans.run(null);
    if (this.closed) throw closedError(this.options.folder);
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ mark, resolve, reject });
      this.checkSilence();
      this.checkBarriers();
      if (this.waiters.length > 0) {
        for (const s of this.states) this.hurry(s);
        this.watchSilence();
      }
    });
  }

  /** While barriers wait: a standby that falls silent stops holding them within a few tens of ms. */
  private watchSilence(): void {
    if (this.silenceTimer || !this.options.peerSilent) return;
    this.silenceTimer = setInterval(() => {
      if (this.waiters.length === 0 || this.closed) {
        if (this.silenceTimer) clearInterval(this.silenceTimer);
        this.silenceTimer = null;
        return;
      }
      this.checkSilence();
    }, SILENCE_CHECK_MS);
    this.silenceTimer.unref();
  }

  /** Releases the barriers whose changes every target that is up confirmed (none while no target is up). */
  private checkBarriers(): void {
    if (this.waiters.length === 0) return;
    const up = this.states.filter((s) => s.up);
    if (up.length === 0) return;
    const first = Math.min(...this.waiters.map((w) => w.mark));
    const low = Math.min(...up.map((s) => s.lowest(first)));
    const waiting: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.mark < low) w.resolve();
      else waiting.push(w);
    }
    this.waiters = waiting;
  }

  /** One barrier's look at the folder: queues what changed unreported; returns the number of the last change. */
  private async scan(): Promise<number> {
    await this.learned;
    if (this.closed) return this.seq;
    for (const rel of [...this.knownDirs.keys()]) {
      const k = this.knownDirs.get(rel);
      if (!k || this.closed) continue; // gone with a folder above it
      const looked = Date.now();
      const st = await fsp.lstat(path.join(this.options.folder, rel)).catch(() => null);
      if (!st?.isDirectory()) {
        if (rel !== '' && this.knownDirs.has(rel)) this.onRemove(rel, 'barrier');
        continue;
      }
      if (st.mtimeMs !== k.mtimeMs || k.fresh) await this.readDir(rel, { isNew: false, looked, st });
    }
    const files = [...this.known];
    const newDirs: Promise<void>[] = [];
    for (let i = 0; i < files.length && !this.closed; i += STAT_BATCH) {
      const batch = files.slice(i, i + STAT_BATCH);
      const stats = await Promise.all(batch.map(([rel]) => fsp.lstat(path.join(this.options.folder, rel)).catch(() => null)));
      batch.forEach(([rel, k], j) => {
        const st = stats[j];
        if (this.known.get(rel) !== k) return; // queued again meanwhile
        if (!st) return this.onRemove(rel, 'barrier');
        if (st.isDirectory()) {
          this.forget(rel);
          this.enqueue(rel, { kind: 'mkdir' }, 'barrier');
          return void newDirs.push(this.readDir(rel, { isNew: true }));
        }
        if (k.fresh || st.ino !== k.ino || st.size !== k.size || st.mtimeMs !== k.mtimeMs) this.onWrite(rel, st, 'barrier');
      });
    }
    await Promise.all(newDirs);
    // What waits (settling, or given up earlier) is tried now.
    const now = Date.now();
    for (const s of this.states) {
      this.retryStuck(s, now);
      for (const e of s.pending.values()) e.due = Math.min(e.due, now);
      this.hurry(s);
    }
    return this.seq;
  }

  private retryStuck(s: TargetState, now: number): void {
    for (const e of s.stuck.values()) s.putBack({ ...e, attempts: 0 }, now);
    s.stuck.clear();
    s.stuckRetried = now;
  }

  /** A worker sleeping until the next settled entry starts now (a barrier waits). */
  private hurry(s: TargetState): void {
    if (s.timer && s.up) {
      clearTimeout(s.timer);
      s.timer = null;
    }
    this.kick(s);
  }

  /**
   * Lists a folder and remembers it with the time it had before the listing; entries not known yet
   * are remembered and, when `isNew` or the folder changed, queued; known entries gone are removed.
   */
  private async readDir(rel: string, o: { isNew: boolean; looked?: number; st?: Stats }): Promise<void> {
    const dir = path.join(this.options.folder, rel);
    const looked = o.looked ?? Date.now();
    const st = o.st ?? (await fsp.lstat(dir).catch(() => null));
    if (!st?.isDirectory()) return;
    const names = await fsp.readdir(dir).catch(() => null);
    if (!names) return;
    const queue = o.isNew || this.knownDirs.has(rel);
    this.knownDirs.set(rel, { mtimeMs: st.mtimeMs, fresh: isYoung(st.mtimeMs, looked) });
    if (rel !== '') this.childrenOf(path.posix.dirname(rel)).add(rel);
    const present = new Set(names.filter((n) => rel !== '' || n !== STAGING).map((n) => (rel === '' ? n : `${rel}/${n}`)));
    // Removals first: a new name of a removed file is then seen as its rename.
    for (const child of [...(this.children.get(rel) ?? [])]) if (!present.has(child)) this.onRemove(child, 'barrier');
    for (const child of present) {
      if (this.known.has(child) || this.knownDirs.has(child)) continue;
      const name = path.posix.basename(child);
      const cst = await fsp.lstat(path.join(dir, name)).catch(() => null);
      if (!cst || this.closed) continue;
      if (cst.isDirectory()) {
        if (queue) this.enqueue(child, { kind: 'mkdir' }, 'barrier');
        await this.readDir(child, { isNew: queue });
      } else if (queue) this.onWrite(child, cst, 'barrier');
      else this.remember(child, { ino: cst.ino, size: cst.size, mtimeMs: cst.mtimeMs, fresh: false });
    }
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
    for (const w of this.waiters.splice(0)) w.reject(closedError(this.options.folder));
    if (this.tick) clearInterval(this.tick);
    if (this.silenceTimer) clearInterval(this.silenceTimer);
    if (this.scrubTimer) clearInterval(this.scrubTimer);
    for (const s of this.states) if (s.timer) clearTimeout(s.timer);
    if (this.burstTimer) clearTimeout(this.burstTimer);
    await this.watcher?.close();
  }
}
