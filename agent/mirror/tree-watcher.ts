import { EventEmitter } from 'node:events';
import fs, { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';

/** What the watcher last saw at a path. */
type Kind = 'dir' | 'file';

export interface TreeWatcherEvents {
  add: [rel: string, st: Stats];
  change: [rel: string, st: Stats];
  unlink: [rel: string];
  addDir: [rel: string];
  unlinkDir: [rel: string];
  error: [e: Error];
}

/** Paths looked at (lstat) at once when the events of a turn are handled. */
const LOOK_BATCH = 64;
/**
 * A folder with this many events within HOT_WINDOW_MS is hot (a file in it written without
 * pause): its watch is taken off for PAUSE_MS, then put back and the folder compared with what
 * was seen (names, and each file's inode, size and times). Each event wakes the process (~50 µs
 * here); a file appended 10,000 times a second then costs ~20 looks a second, not 10,000 wakes.
 */
const HOT_EVENTS = 8;
const HOT_WINDOW_MS = 20;
const PAUSE_MS = 50;

/**
 * File times come from a coarse clock (a few ms): a write less than this after the time a file
 * shows may leave its times as they were (and its size, when it rewrites bytes in place).
 */
const FRESH_MS = 20;

/**
 * Whether a time a file or folder shows is that young (within FRESH_MS of `now`). A time ahead of
 * the clock by more (set by hand, or the clock stepped back) is not young: the next write gives a
 * time unlike it.
 */
export function isYoung(timeMs: number, now = Date.now()): boolean {
  return Math.abs(now - timeMs) < FRESH_MS;
}

/** What a look at a file saw: inode, size, modification and change times; `young` when it may not show a write right after. */
interface Stamp {
  readonly seen: string;
  readonly young: boolean;
}

// Every write (and every change of times) sets the change time to now: its age is the last write's.
const stampOf = (st: Stats): Stamp => ({ seen: `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`, young: isYoung(st.ctimeMs) });

/** Whether a file looked at again may have been written since `before` (a young stamp is never trusted to show it). */
const changedSince = (before: Stamp | undefined, now: Stamp) => before === undefined || before.young || before.seen !== now.seen;

/**
 * Reports the changes under a folder (paths relative to it), one inotify watch per folder (node's
 * fs.watch, not recursive) and no reading of a folder on every event: an event only marks its path;
 * the paths marked during one turn of the event loop are then looked at once each (lstat), in the
 * order they were first marked, and reported as add / change (with the lstat) / unlink, or addDir /
 * unlinkDir (a new folder is watched and what it holds reported as new; a folder gone takes what
 * was below it). A folder whose files are written without pause is looked at every PAUSE_MS
 * instead (see HOT_EVENTS), and a write to a file the caller already means to look at is dropped at
 * once (`settled`): chokidar read the folder again for each event in it and stat-ed the file per
 * event. Symbolic links are reported as files (never followed). What existed at start() is not
 * reported. The kernel's event queue is bounded and a watch may fail ('error'): a caller that must
 * not lose a change compares in full now and then (FolderMirror does after a burst, and barriers
 * look for themselves).
 */
export class TreeWatcher extends EventEmitter<TreeWatcherEvents> {
  /** What is known under the root: '' is the root; each folder's children by name. */
  private readonly kinds = new Map<string, Kind>();
  private readonly children = new Map<string, Set<string>>();
  private readonly watchers = new Map<string, fs.FSWatcher>();
  /** Each known file's stamp as last reported (or listed). */
  private readonly stamps = new Map<string, Stamp>();
  /** Recent events per watched folder, and the folders whose watch is off for a moment. */
  private readonly heat = new Map<string, { n: number; since: number }>();
  private readonly paused = new Map<string, NodeJS.Timeout>();
  private marked = new Set<string>();
  private looking = false;
  private closed = false;

  /**
   * `ignored`: paths never watched nor reported. `settled`: true for a file whose next look the
   * caller has arranged anyway (a copy of it waits): a write to it (a 'change' event of the kernel)
   * is then dropped at once, with no lstat and no report.
   */
  constructor(
    readonly root: string,
    private readonly ignored: (rel: string) => boolean = () => false,
    private readonly settled: (rel: string) => boolean = () => false,
  ) {
    super();
  }

  /** Watches every folder under the root; resolves once all stand (nothing reported for what is there). */
  async start(): Promise<void> {
    this.kinds.set('', 'dir');
    await this.enter('', false);
  }

  private join(dir: string, name: string): string {
    return dir === '' ? name : `${dir}/${name}`;
  }

  private childrenOf(dir: string): Set<string> {
    let c = this.children.get(dir);
    if (!c) {
      c = new Set();
      this.children.set(dir, c);
    }
    return c;
  }

  /** Watches a folder, then lists it: what it holds is remembered (and reported when `report`). */
  private async enter(dir: string, report: boolean): Promise<void> {
    if (this.closed || this.watchers.has(dir) || !this.watch(dir)) return;
    const abs = dir === '' ? this.root : path.join(this.root, dir);
    const names = await fsp.readdir(abs).catch(() => [] as string[]);
    const sts = await Promise.all(names.map((n) => fsp.lstat(path.join(abs, n)).catch(() => null)));
    for (let i = 0; i < names.length && !this.closed; i += 1) {
      const rel = this.join(dir, names[i] as string);
      const st = sts[i];
      if (!st || this.ignored(rel) || this.kinds.has(rel)) continue;
      await this.found(rel, st, report);
    }
  }

  /** Puts a watch on a folder; false when it is gone. */
  private watch(dir: string): boolean {
    const abs = dir === '' ? this.root : path.join(this.root, dir);
    try {
      const w = fs.watch(abs, { persistent: true }, (type, name) => this.onEvent(dir, type, name));
      w.on('error', (e) => {
        // Its changes are no longer reported: said, and left to the caller's full comparisons.
        this.unwatch(dir);
        this.emit('error', e);
      });
      this.watchers.set(dir, w);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Gone meanwhile (its removal is reported by its parent): nothing to watch.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.emit('error', e as Error);
      return false;
    }
  }

  /** A hot folder: its watch is off for PAUSE_MS, then back on and the folder compared (see HOT_EVENTS). */
  private pause(dir: string): void {
    this.unwatch(dir);
    this.heat.delete(dir);
    const timer = setTimeout(() => {
      this.paused.delete(dir);
      if (this.closed || this.kinds.get(dir) !== 'dir' || this.watchers.has(dir)) return;
      if (this.watch(dir)) this.mark(dir);
    }, PAUSE_MS);
    this.paused.set(dir, timer);
  }

  /** A path not known before: remembered, reported when `report`; a folder is entered. */
  private async found(rel: string, st: Stats, report: boolean): Promise<void> {
    this.childrenOf(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel)).add(rel);
    if (st.isDirectory()) {
      this.kinds.set(rel, 'dir');
      if (report) this.emit('addDir', rel);
      await this.enter(rel, report);
    } else {
      this.kinds.set(rel, 'file');
      this.stamps.set(rel, stampOf(st));
      if (report) this.emit('add', rel, st);
    }
  }

  private onEvent(dir: string, type: string, name: string | Buffer | null): void {
    if (this.closed) return;
    const now = Date.now();
    const h = this.heat.get(dir);
    if (!h || now - h.since > HOT_WINDOW_MS) this.heat.set(dir, { n: 1, since: now });
    else if ((h.n += 1) >= HOT_EVENTS && this.watchers.has(dir)) this.pause(dir);
    if (name === null) {
      // The kernel did not say which entry: everything known in the folder, and the folder, is looked at.
      this.mark(dir);
      for (const c of this.children.get(dir) ?? []) this.mark(c);
      return;
    }
    const n = name.toString();
    const rel = this.join(dir, n);
    if (type === 'change' && this.kinds.get(rel) === 'file' && this.settled(rel)) return;
    this.mark(rel);
    // A watched folder removed or moved itself is reported under its own name.
    if (type === 'rename' && dir !== '' && n === path.posix.basename(dir)) this.mark(dir);
  }

  private mark(rel: string): void {
    if (this.marked.has(rel)) return;
    this.marked.add(rel);
    if (!this.looking) {
      this.looking = true;
      setImmediate(() => void this.look());
    }
  }

  /** Looks at every marked path, in the order marked; paths marked meanwhile are looked at next. */
  private async look(): Promise<void> {
    try {
      for (let rounds = 0; this.marked.size > 0 && !this.closed && rounds < 1_000_000; rounds += 1) {
        const paths = [...this.marked].filter((rel) => rel === '' || !this.ignored(rel));
        this.marked = new Set();
        for (let i = 0; i < paths.length && !this.closed; i += LOOK_BATCH) {
          const batch = paths.slice(i, i + LOOK_BATCH);
          const sts = await Promise.all(batch.map((rel) => fsp.lstat(rel === '' ? this.root : path.join(this.root, rel)).catch(() => null)));
          for (let j = 0; j < batch.length && !this.closed; j += 1) await this.seen(batch[j] as string, sts[j] ?? null);
        }
      }
    } catch (e) {
      this.emit('error', e as Error);
    } finally {
      this.looking = false;
      if (this.marked.size > 0 && !this.closed) {
        this.looking = true;
        setImmediate(() => void this.look());
      }
    }
  }

  /** Reports what a look at `rel` found against what was known of it. */
  private async seen(rel: string, st: Stats | null): Promise<void> {
    const was = this.kinds.get(rel);
    if (rel === '') {
      if (st?.isDirectory()) {
        // The folder itself: entries the kernel did not name are found by listing it.
        await this.relist('');
      }
      return;
    }
    const parent = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
    // Below a folder that is not (or no longer) known: its own look reports it.
    if (this.kinds.get(parent) !== 'dir') return;
    const now: Kind | null = st === null ? null : st.isDirectory() ? 'dir' : 'file';
    if (was !== undefined && was !== now) this.gone(rel);
    if (now === null || st === null) return;
    if (was === now) {
      if (now === 'file') {
        this.stamps.set(rel, stampOf(st));
        this.emit('change', rel, st);
      } else await this.relist(rel);
      return;
    }
    await this.found(rel, st, true);
  }

  /**
   * A known folder whose changes were not named (or not watched for a moment): new entries are
   * reported, missing ones removed, known files whose stamp changed (or was young) reported as changed.
   */
  private async relist(dir: string): Promise<void> {
    const abs = dir === '' ? this.root : path.join(this.root, dir);
    const names = await fsp.readdir(abs).catch(() => null);
    if (!names || this.closed) return;
    const present = [...new Set(names.map((n) => this.join(dir, n)))].filter((rel) => !this.ignored(rel));
    const sts = await Promise.all(present.map((rel) => fsp.lstat(path.join(this.root, rel)).catch(() => null)));
    if (this.closed) return;
    const kindOf = (st: Stats | null | undefined) => (st ? (st.isDirectory() ? 'dir' : 'file') : null);
    const now = new Map(present.map((rel, i) => [rel, sts[i]]));
    // Removals first (a new name of a removed file is then seen as its rename).
    for (const c of [...(this.children.get(dir) ?? [])]) if (kindOf(now.get(c)) !== this.kinds.get(c)) this.gone(c);
    for (const [rel, st] of now) {
      if (!st || this.closed) continue;
      if (!this.kinds.has(rel)) await this.found(rel, st, true);
      else if (this.kinds.get(rel) === 'file') {
        const stamp = stampOf(st);
        if (!changedSince(this.stamps.get(rel), stamp)) continue;
        this.stamps.set(rel, stamp);
        this.emit('change', rel, st);
      }
    }
  }

  /** A path gone: what was below a folder first (deepest first), then the path itself. */
  private gone(rel: string): void {
    const kind = this.kinds.get(rel);
    if (kind === undefined) return;
    for (const c of [...(this.children.get(rel) ?? [])]) this.gone(c);
    this.children.delete(rel);
    this.kinds.delete(rel);
    this.stamps.delete(rel);
    const parent = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
    this.children.get(parent)?.delete(rel);
    if (kind === 'dir') {
      this.unwatch(rel);
      this.emit('unlinkDir', rel);
    } else this.emit('unlink', rel);
  }

  private unwatch(dir: string): void {
    this.watchers.get(dir)?.close();
    this.watchers.delete(dir);
    this.heat.delete(dir);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    for (const t of this.paused.values()) clearTimeout(t);
    this.paused.clear();
    this.marked.clear();
  }
}
