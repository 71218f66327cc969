import type { ChildProcess } from 'node:child_process';
import { libc } from '../os/libc.js';
import { pollThread } from '../os/poll-thread.js';
import { isSameLiveProcess } from '../../common/node/proc-stat.js';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

/** A program the supervisor watches: its own child, or one re-adopted after an agent restart. */
export interface WatchedProcess {
  readonly pid: number;
  readonly startTicks: number;
  onExit(listener: (exit: ExitInfo) => void): void;
  dispose(): void;
}

/** Our own child: its exit is noticed at once through SIGCHLD. */
export class ChildHandle implements WatchedProcess {
  constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    readonly startTicks: number,
  ) {}

  onExit(listener: (exit: ExitInfo) => void): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      queueMicrotask(() => listener({ code: this.child.exitCode, signal: this.child.signalCode }));
      return;
    }
    this.child.once('exit', (code, signal) => listener({ code, signal }));
  }

  dispose(): void {
    this.child.removeAllListeners('exit');
    this.child.unref();
  }
}

/**
 * A program started by an earlier agent: no longer our child, so no SIGCHLD. Its exit is noticed at
 * once through a pidfd watched by the poll thread; where pidfd_open is unavailable (kernel < 5.3, no
 * koffi) its /proc entry is checked every `intervalMs` instead (pid + start time; zombies count as ended).
 */
export class AdoptedHandle implements WatchedProcess {
  private timer: NodeJS.Timeout | null = null;
  private watch: { remove(): void } | null = null;

  constructor(
    readonly pid: number,
    readonly startTicks: number,
    private readonly intervalMs = 250,
  ) {}

  onExit(listener: (exit: ExitInfo) => void): void {
    const ended = () => listener({ code: null, signal: null });
    let fd = -1;
    try {
      fd = libc().pidfdOpen(this.pid);
    } catch {
      fd = -1;
    }
    if (fd >= 0) {
      // The pidfd pins this pid now; check that it is still the same process as journaled.
      if (!isSameLiveProcess(this.pid, this.startTicks)) {
        libc().close(fd);
        queueMicrotask(ended);
        return;
      }
      this.watch = pollThread.watch(fd, 'pidfd', () => {
        this.watch = null;
        ended();
      });
      return;
    }
    this.timer = setInterval(() => {
      if (!isSameLiveProcess(this.pid, this.startTicks)) {
        this.dispose();
        ended();
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watch?.remove();
    this.watch = null;
  }
}
