import type { ServiceConfig } from '../../common/config/service.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { step } from '../../common/fsm/table.js';
import type { AgentEventInput, ServiceStatus } from '../../common/wire/service-status.js';
import { clampTimer, LivenessMonitor } from '../liveness/liveness-monitor.js';
import type { NotifyMessage } from '../liveness/notify-message.js';
import { launch } from './launcher.js';
import { LogCapture } from './log-capture.js';
import { signalGroup } from './proc.js';
import { isSameLiveProcess, readProcStat } from '../../common/node/proc-stat.js';
import { REASONS } from './reasons.js';
import type { TrackerState } from './restart-tracker.js';
import { contextFor } from './supervisor-context.js';
import {
  PUBLIC_STATE,
  SUPERVISOR_TABLE,
  describeExit,
  type SupervisorCtx,
  type SupervisorEffect,
  type SupervisorEvent,
  type SupervisorState,
} from './state-table.js';
import { AdoptedHandle, ChildHandle, type WatchedProcess } from './watched-process.js';

/** What the runner persists so that a restarted agent can re-adopt the program. */
export interface RunnerSnapshot {
  state: SupervisorState;
  desired: 'up' | 'down';
  pid: number | null;
  startTicks: number | null;
  tracker: TrackerState;
  reason: string;
  lastExit: string | null;
}

export interface RunnerDeps {
  instance: string;
  runDir: string;
  logDir: string;
  journal: (event: AgentEventInput) => void;
  persist: () => void;
  canEscalate: () => boolean;
  /** The path of the service's notify socket (NOTIFY_SOCKET), created on first use. */
  notifySocket: (service: string, spec: ServiceConfig) => string;
  /** The path of the service's checkpoint socket (ARMORY_CHECKPOINT_SOCKET), or null without checkpoints. */
  checkpointSocket?: (service: string, spec: ServiceConfig) => string | null;
  now?: () => number;
  random?: () => number;
}

/**
 * Runs one service: holds its state and context, feeds events through the transition table, and
 * performs the effects the table asks for (spawn, signal, one timer per state).
 */
export class ServiceRunner {
  private state: SupervisorState = 'stopped';
  private ctx: SupervisorCtx;
  private proc: WatchedProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerDue: number | null = null;
  private since: number;
  private reason = 'not started';
  private readonly logs: LogCapture;
  private monitor: LivenessMonitor;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(
    readonly name: string,
    private spec: ServiceConfig,
    private readonly deps: RunnerDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.ctx = contextFor(spec, deps.canEscalate());
    this.since = this.now();
    this.logs = new LogCapture(deps.runDir, deps.logDir, name, spec.logs);
    this.monitor = this.makeMonitor();
  }

  private makeMonitor(): LivenessMonitor {
    return new LivenessMonitor(
      this.spec,
      {
        ready: () => this.dispatch({ type: 'ready' }),
        hung: (detail) => {
          this.deps.journal({ kind: 'liveness', service: this.name, reason: `hang detected: ${detail}`, detail: { pid: this.ctx.pid } });
          this.dispatch({ type: 'hung', detail });
        },
        extend: (ms) => this.dispatch({ type: 'extend', ms }),
        note: (text) => this.deps.journal({ kind: 'liveness', service: this.name, reason: text }),
      },
      this.now,
    );
  }

  /** A notify datagram from the program, already checked to come from its process group. */
  notify(message: NotifyMessage): void {
    if (message.mainPid !== undefined) this.noteMainPid(message.mainPid);
    this.monitor.notify(message);
  }

  /**
   * MAINPID=: a program that forks (a daemon whose first process exits) names its real main
   * process. It must be of the same process group; when the started process then exits, the
   * supervisor follows the main process instead of counting a crash.
   */
  private noteMainPid(pid: number): void {
    const st = readProcStat(pid);
    if (!st || st.pgrp !== this.pgid || st.state === 'Z') {
      this.deps.journal({ kind: 'liveness', service: this.name, reason: `MAINPID=${pid} ignored: not a live process of the service's group` });
      return;
    }
    this.mainPid = { pid, startTicks: st.startTicks };
    if (this.proc?.pid !== pid) this.deps.journal({ kind: 'liveness', service: this.name, reason: `main process is pid ${pid} (MAINPID)` });
  }

  /** The process group of the program that runs now, to check notify senders against. */
  get processGroup(): number | null {
    return this.proc ? this.pgid : null;
  }

  /** The program's main process now (pid, start time, and whether it is ready), or null while none runs. */
  get mainProcess(): { pid: number; startTicks: number; ready: boolean } | null {
    const p = this.proc;
    return p ? { pid: p.pid, startTicks: p.startTicks, ready: this.ready } : null;
  }

  /** Running, and ready as its readiness (notify, probes) says when it has one. */
  private get ready(): boolean {
    return this.state === 'running' && (!this.ctx.needsReadiness || this.monitor.ready);
  }

  get config(): ServiceConfig {
    return this.spec;
  }

  get current(): SupervisorState {
    return this.state;
  }

  /** A new specification that takes effect at the next start (the caller restarts when needed). */
  updateSpec(spec: ServiceConfig): void {
    this.spec = spec;
    this.ctx = contextFor(spec, this.deps.canEscalate(), this.ctx);
    this.logs.file.setLimits(spec.logs.maxSize, spec.logs.keep);
    this.monitor.end();
    this.monitor = this.makeMonitor();
  }

  dispatch(event: SupervisorEvent): void {
    const now = this.now();
    const previousPid = this.ctx.pid;
    const r = step(SUPERVISOR_TABLE, this.state, this.ctx, event, now);
    if (!r.handled) return;
    const changed = r.from !== r.to;
    this.state = r.to;
    this.ctx = r.ctx;
    this.reason = r.reason;
    if (changed || r.effects.some((e) => e.kind === 'timer')) this.clearTimer();
    if (changed) this.since = now;
    // Every change of state is journaled, and so is a spawn (which may stay in `starting`).
    if (changed || event.type === 'spawned') {
      this.deps.journal({ kind: 'transition', service: this.name, from: PUBLIC_STATE[r.from], to: PUBLIC_STATE[r.to], reason: r.reason, detail: this.eventDetail(event, r.from, r.to, previousPid) });
    }
    if (this.state !== 'starting' && this.state !== 'running') this.monitor.end();
    for (const effect of r.effects) this.perform(effect);
    this.deps.persist();
  }

  private eventDetail(event: SupervisorEvent, from: SupervisorState, to: SupervisorState, previousPid: number | null): Record<string, unknown> {
    const d: Record<string, unknown> = { event: event.type };
    if (from !== PUBLIC_STATE[from] || to !== PUBLIC_STATE[to]) Object.assign(d, { fromDetail: from, toDetail: to });
    if (this.ctx.pid !== null) d.pid = this.ctx.pid;
    if (event.type === 'exited') Object.assign(d, { exit: describeExit(event.code, event.signal), ...(previousPid !== null ? { exitedPid: previousPid } : {}) });
    return d;
  }

  private perform(effect: SupervisorEffect): void {
    switch (effect.kind) {
      case 'spawn':
        this.spawn();
        return;
      case 'signal':
        if (this.pgid !== null) {
          if (effect.cont) signalGroup(this.pgid, 'SIGCONT');
          signalGroup(this.pgid, effect.signal);
        }
        return;
      case 'kill-leftovers':
        // The main process has ended: anything left in its group (a child that ignored the stop
        // signal, a grandchild holding the port) must not outlive it.
        if (this.pgid !== null) signalGroup(this.pgid, 'SIGKILL');
        return;
      case 'timer': {
        const token = this.state;
        this.timerDue = this.now() + effect.ms;
        this.timer = setTimeout(() => {
          this.timer = null;
          this.timerDue = null;
          if (this.state === token) this.dispatch({ type: 'timer' });
        }, clampTimer(effect.ms));
        return;
      }
    }
  }

  /** The program's process group (the pid it was started with); signals go to the whole group. */
  private pgid: number | null = null;
  private mainPid: { pid: number; startTicks: number } | null = null;

  private spawn(): void {
    let child;
    try {
      const extraEnv: Record<string, string> = {};
      if (this.spec.notify) {
        extraEnv.NOTIFY_SOCKET = this.deps.notifySocket(this.name, this.spec);
        if (this.spec.watchdog !== undefined) extraEnv.WATCHDOG_USEC = String(this.spec.watchdog * 1000);
      }
      const checkpointSocket = this.deps.checkpointSocket?.(this.name, this.spec) ?? null;
      if (checkpointSocket !== null) extraEnv.ARMORY_CHECKPOINT_SOCKET = checkpointSocket;
      child = launch(this.spec, {
        service: this.name,
        instance: this.deps.instance,
        stdio: this.logs.stdio,
        extraEnv,
        watchdogPid: this.spec.notify && this.spec.watchdog !== undefined,
      });
    } catch (e) {
      const msg = e instanceof ArmoryError ? e.message : (e as Error).message;
      queueMicrotask(() => this.dispatch({ type: 'spawn-failed', error: msg }));
      return;
    }
    const pid = child.pid;
    if (pid === undefined) {
      child.once('error', (err) => this.dispatch({ type: 'spawn-failed', error: err.message }));
      return;
    }
    child.on('error', () => undefined);
    const startTicks = readProcStat(pid)?.startTicks ?? 0;
    this.mainPid = null;
    this.watch(new ChildHandle(child, pid, startTicks), pid);
    this.monitor.begin({ alreadyReady: false });
    this.dispatch({ type: 'spawned', pid });
  }

  private watch(proc: WatchedProcess, pgid: number): void {
    this.proc?.dispose();
    this.proc = proc;
    this.pgid = pgid;
    proc.onExit((exit) => {
      if (this.proc !== proc) return;
      const main = this.mainPid;
      if (main && main.pid !== proc.pid && isSameLiveProcess(main.pid, main.startTicks)) {
        this.deps.journal({ kind: 'liveness', service: this.name, reason: `process ${proc.pid} exited (${describeExit(exit.code, exit.signal)}); following the main process ${main.pid}` });
        this.watch(new AdoptedHandle(main.pid, main.startTicks), pgid);
        this.ctx = { ...this.ctx, pid: main.pid };
        this.deps.persist();
        return;
      }
      this.proc = null;
      this.monitor.end();
      this.dispatch({ type: 'exited', code: exit.code, signal: exit.signal, rand: this.random() });
    });
  }

  /** Takes over a program that an earlier agent started and that still runs (same pid and start time). */
  adopt(pid: number, startTicks: number, restored: RunnerSnapshot): void {
    this.ctx = contextFor(this.spec, this.deps.canEscalate(), { tracker: restored.tracker, lastExit: restored.lastExit });
    if (this.spec.notify) {
      try {
        this.deps.notifySocket(this.name, this.spec);
      } catch (e) {
        this.deps.journal({ kind: 'liveness', service: this.name, reason: `cannot re-create the notify socket: ${(e as Error).message}` });
      }
    }
    this.watch(new AdoptedHandle(pid, startTicks), readProcStat(pid)?.pgrp ?? pid);
    this.dispatch({ type: 'adopted', pid, startedAt: restored.tracker.lastStartAt ?? this.now() });
    this.monitor.begin({ alreadyReady: true });
  }

  /** The program an earlier agent ran has ended meanwhile: apply the policy as to any exit. */
  vanished(restored: RunnerSnapshot): void {
    this.ctx = contextFor(this.spec, this.deps.canEscalate(), { tracker: restored.tracker, lastExit: restored.lastExit });
    this.deps.journal({ kind: 'adoption', service: this.name, reason: REASONS.vanished, detail: { pid: restored.pid } });
    this.state = 'running';
    this.ctx = { ...this.ctx, desired: 'up', pid: restored.pid };
    // Its group is not signalled blindly (the pid may be anyone's by now): the agent's sweep stops
    // what is left of it by the instance mark in its environment.
    this.pgid = null;
    this.dispatch({ type: 'exited', code: null, signal: null, rand: this.random() });
  }

  /** Restores a state that involves no process (failed, escalated, stopped) after an agent restart. */
  restore(restored: RunnerSnapshot): void {
    this.ctx = contextFor(this.spec, this.deps.canEscalate(), { tracker: restored.tracker, lastExit: restored.lastExit, desired: restored.desired });
    if (restored.state === 'failed' || restored.state === 'escalated') {
      this.state = restored.state;
      this.reason = restored.reason;
    }
  }

  start(reason?: string): void {
    this.dispatch(reason ? { type: 'start', reason } : { type: 'start' });
  }

  stop(reason?: string): void {
    this.dispatch(reason ? { type: 'stop', reason } : { type: 'stop' });
  }

  restart(reason?: string): void {
    this.dispatch(reason ? { type: 'restart', reason } : { type: 'restart' });
  }

  /** Resolves once the program is stopped (or in a state with no process). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.proc === null && this.state !== 'stopping' && this.state !== 'killing' && this.state !== 'starting' && this.state !== 'running') resolve();
        else setTimeout(check, 20);
      };
      check();
    });
  }

  snapshot(): RunnerSnapshot {
    return {
      state: this.state,
      desired: this.ctx.desired,
      pid: this.proc?.pid ?? null,
      startTicks: this.proc?.startTicks ?? null,
      tracker: this.ctx.tracker,
      reason: this.reason,
      lastExit: this.ctx.lastExit,
    };
  }

  status(): ServiceStatus {
    const now = this.now();
    const up = this.state === 'running' || this.state === 'starting';
    return {
      name: this.name,
      state: PUBLIC_STATE[this.state],
      desired: this.ctx.desired,
      ready: this.ready,
      pid: this.proc?.pid ?? null,
      restarts: this.ctx.tracker.totalRestarts,
      reason: this.reason,
      since: new Date(this.since).toISOString(),
      uptimeMs: up && this.ctx.tracker.lastStartAt !== null ? Math.max(0, now - this.ctx.tracker.lastStartAt) : null,
      lastExit: this.ctx.lastExit,
      nextRestartMs: this.state === 'backing-off' && this.timerDue !== null ? Math.max(0, this.timerDue - now) : null,
      ...(up ? this.monitor.report() : { statusText: null, health: null }),
    };
  }

  tailLogs(lines: number): string[] {
    return this.logs.file.tail(lines);
  }

  followLogs(listener: (line: string) => void): { dispose(): void } {
    return this.logs.file.subscribe(listener);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = null;
  }

  /** Lets go of the program without stopping it (the agent is exiting; a later agent re-adopts it). */
  detach(): void {
    this.release({ removePipes: false });
  }

  /** The service was removed from the configuration and has stopped: free everything. */
  dispose(): void {
    this.release({ removePipes: true });
  }

  private release(options: { removePipes: boolean }): void {
    this.monitor.end();
    this.clearTimer();
    this.proc?.dispose();
    this.proc = null;
    this.logs.close(options);
  }
}
