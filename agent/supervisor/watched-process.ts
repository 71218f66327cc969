import type { ChildProcess } from 'node:child_process';
import { isSameLiveProcess } from './proc.js';

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
  }
}

/**
 * A program started by an earlier agent: no longer our child, so no SIGCHLD. Node has no pidfd, so
 * its /proc entry is checked every `intervalMs` (pid + start time, zombies count as ended). Only
 * re-adopted programs are watched this way, until their next restart makes them our children.
 */
export class AdoptedHandle implements WatchedProcess {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly pid: number,
    readonly startTicks: number,
    private readonly intervalMs = 100,
  ) {}

  onExit(listener: (exit: ExitInfo) => void): void {
    this.timer = setInterval(() => {
      if (!isSameLiveProcess(this.pid, this.startTicks)) {
        this.dispose();
        listener({ code: null, signal: null });
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
