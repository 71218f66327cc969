import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { readProcStat } from '../../../common/node/proc-stat.js';

/** A process as a lock names it: its pid and its start time (so a pid reused after a reboot is not taken for the holder). */
interface Holder {
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks since boot); '-' where /proc is not there. */
  start: string;
}

/** The start time of a process, or null when it is gone; '-' where the system has no /proc. */
export function processStart(pid: number): string | null {
  const stat = readProcStat(pid);
  if (stat) return String(stat.startTicks);
  return fs.existsSync('/proc/self/stat') ? null : '-';
}

const alive = (h: Holder): boolean => {
  if (!Number.isInteger(h.pid) || h.pid <= 0) return false;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (h.start === '-') return true;
  const now = processStart(h.pid);
  return now === null ? false : now === '-' || now === h.start;
};

const LOCK_NAME = /^running-(\d{1,15})\.lock$/;
const FREE = 'free\n';
const ATTEMPTS = 8;

const generations = (dir: string): number[] =>
  fs
    .readdirSync(dir)
    .map((n) => LOCK_NAME.exec(n)?.[1])
    .filter((g): g is string => g !== undefined)
    .map(Number)
    .sort((a, b) => a - b);

const lockFile = (dir: string, gen: number) => path.join(dir, `running-${gen}.lock`);

/** Who holds a generation: null when it is free, stale or gone (then it may be taken over). */
function liveHolder(file: string): { pid: string; what: string } | null | 'gone' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw new ArmoryError('DRILL_E_BUSY', `the drill lock ${file} cannot be read (${(e as Error).message}); a drill may be running`);
  }
  const [pid = '', start = '-', , ...what] = text.trim().split(' ');
  if (text === FREE || !alive({ pid: Number(pid), start })) return null;
  return { pid, what: what.join(' ') };
}

/** Writes a whole file under a temporary name first, so that it appears complete or not at all. */
function writeTemp(dir: string, text: string): string {
  const tmp = path.join(dir, `.running-${process.pid}-${crypto.randomBytes(6).toString('hex')}.tmp`);
  fs.writeFileSync(tmp, text, { flag: 'wx', mode: 0o600 });
  return tmp;
}

export interface DrillLockHooks {
  /** Called after a contender found the newest lock free or stale, before it claims the next generation (tests). */
  beforeClaim?: (generation: number) => void;
}

/**
 * One drill at a time per manager home, also across processes (the CLI and the desktop app).
 * The lock is a series of generation files DIR/running-N.lock, each holding the pid, the process
 * start time, a nonce and what runs, or "free". A contender reads the newest generation; when it
 * is free, or its process is gone (the pid is dead, or now names a process started at another
 * time, as after a reboot), the contender claims generation N+1 with link(), which only one can
 * do; older generations are then removed. The newest generation is never removed (release marks
 * it free), so a contender that read an old state can only claim a generation that exists already.
 */
export function takeDrillLock(dir: string, what: string, hooks: DrillLockHooks = {}): { release(): void } {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const start = processStart(process.pid) ?? '-';
  const content = `${process.pid} ${start} ${crypto.randomBytes(6).toString('hex')} ${what.replace(/\s+/g, ' ')}\n`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const top = generations(dir).at(-1) ?? 0;
    if (top > 0) {
      const holder = liveHolder(lockFile(dir, top));
      if (holder === 'gone') continue;
      if (holder !== null) throw new ArmoryError('DRILL_E_BUSY', `a drill is already running (${holder.what || 'unknown'}, pid ${holder.pid}); wait for its report`);
    }
    const gen = top + 1;
    hooks.beforeClaim?.(gen);
    const mine = lockFile(dir, gen);
    const tmp = writeTemp(dir, content);
    try {
      fs.linkSync(tmp, mine);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    // Claimed from a view that was old (a newer generation came and went meanwhile): give it back.
    if ((generations(dir).at(-1) ?? 0) > gen) {
      fs.rmSync(mine, { force: true });
      continue;
    }
    for (const old of generations(dir)) if (old < gen) fs.rmSync(lockFile(dir, old), { force: true });
    return {
      release: () => {
        const t = writeTemp(dir, FREE);
        try {
          // Only while it is still ours (it always is while this process lives).
          if (fs.readFileSync(mine, 'utf8') === content) fs.renameSync(t, mine);
        } catch {
          // Gone already: nothing to release.
        } finally {
          fs.rmSync(t, { force: true });
        }
      },
    };
  }
  throw new ArmoryError('DRILL_E_BUSY', 'another drill took the lock just now');
}
