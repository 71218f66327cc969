import fs from 'node:fs';
import type { ServiceConfig } from '../../common/config/service.js';
import type { NotifyMessage } from './notify-message.js';
import { probeLabel, runProbe } from './probes.js';

export interface LivenessCallbacks {
  /** Every readiness condition holds (READY=1 when notify is on, every probe passed once). */
  ready(): void;
  /** The program is alive but stuck: what was seen. */
  hung(detail: string): void;
  /** EXTEND_TIMEOUT_USEC: the start (or stop) may take this much longer from now. */
  extend(ms: number): void;
  /** Something worth an event (status text, a refused message, a probe that began to fail). */
  note(text: string): void;
}

/** How often a probe is retried while the program is not yet ready (if its interval is longer). */
const STARTUP_PROBE_MS = 50;

/** setTimeout fires at once past 2^31-1 ms: longer waits are capped there (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
export const clampTimer = (ms: number): number => Math.max(0, Math.min(MAX_TIMER_MS, ms));

/** What status shows about a program's health. */
export interface LivenessReport {
  statusText: string | null;
  health: string | null;
}

/**
 * Watches one run of one program: readiness (notify READY=1, probes) and hangs (watchdog, probe
 * failures in a row, a heartbeat file that stops advancing). Alive is not ready: the supervisor
 * marks the program running only when this says ready, and restarts it when this says hung.
 */
export class LivenessMonitor {
  private timers: NodeJS.Timeout[] = [];
  private watchdog: NodeJS.Timeout | null = null;
  private watchdogMs: number | undefined;
  private lastPing = 0;
  private isReady = false;
  private notifiedReady = false;
  private readonly probePassed: boolean[];
  private readonly probeFailures: number[];
  private startedAt = 0;
  private active = false;
  private statusText: string | null = null;
  private health: string | null = null;
  /** Which run the monitor watches: a probe answer from an earlier run is dropped. */
  private run = 0;

  constructor(
    private readonly spec: ServiceConfig,
    private readonly cb: LivenessCallbacks,
    private readonly now: () => number = Date.now,
  ) {
    this.probePassed = spec.probes.map(() => false);
    this.probeFailures = spec.probes.map(() => 0);
    this.watchdogMs = spec.watchdog;
  }

  /** True when readiness needs a signal from the program or a probe (else ready at spawn). */
  static needsReadiness(spec: ServiceConfig): boolean {
    return spec.notify || spec.probes.length > 0;
  }

  /** Begins watching a run. `alreadyReady` for a re-adopted program that was ready before. */
  begin(options: { alreadyReady: boolean }): void {
    this.end();
    this.active = true;
    this.run += 1;
    this.startedAt = this.now();
    this.statusText = null;
    this.isReady = options.alreadyReady;
    this.notifiedReady = options.alreadyReady;
    this.probePassed.fill(options.alreadyReady);
    this.probeFailures.fill(0);
    this.watchdogMs = this.spec.watchdog;
    this.health = null;
    this.spec.probes.forEach((_p, i) => this.scheduleProbe(i, 0));
    if (this.spec.heartbeat) this.watchHeartbeat(this.spec.heartbeat.file, this.spec.heartbeat.timeout);
    if (this.isReady) this.armWatchdog();
  }

  end(): void {
    this.active = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  report(): LivenessReport {
    return { statusText: this.statusText, health: this.health };
  }

  get ready(): boolean {
    return this.isReady;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      if (this.active) fn();
    }, clampTimer(ms));
    this.timers.push(t);
  }

  private checkReady(): void {
    if (this.isReady || !this.active) return;
    if (this.spec.notify && !this.notifiedReady) return;
    if (!this.probePassed.every(Boolean)) return;
    this.isReady = true;
    this.armWatchdog();
    this.cb.ready();
  }

  private hang(detail: string): void {
    if (!this.active) return;
    this.health = detail;
    this.end();
    this.cb.hung(detail);
  }

  // --- watchdog (systemd notify WATCHDOG=1) ---

  private armWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
    const ms = this.watchdogMs;
    if (!this.spec.notify || ms === undefined || !this.active) return;
    this.lastPing = this.now();
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      this.hang(`no WATCHDOG=1 for ${this.now() - this.lastPing}ms (watchdog ${ms}ms)`);
    }, clampTimer(ms));
  }

  /** Applies one notify message from the program (already checked to come from its group). */
  notify(m: NotifyMessage): void {
    if (!this.active) return;
    if (m.status !== undefined) {
      this.statusText = m.status;
      this.cb.note(`status: ${m.status}`);
    }
    if (m.errno !== undefined) this.cb.note(`program reported errno ${m.errno}`);
    if (m.watchdogUsec !== undefined) this.watchdogMs = clampTimer(Math.round(m.watchdogUsec / 1000));
    if (m.extendTimeoutUsec !== undefined && !this.isReady) this.cb.extend(clampTimer(Math.round(m.extendTimeoutUsec / 1000)));
    if (m.watchdog === 'trigger') return this.hang('the program asked for a watchdog restart (WATCHDOG=trigger)');
    if (m.reloading && this.isReady) {
      this.isReady = false;
      this.notifiedReady = false;
      this.cb.note('reloading (RELOADING=1): not ready until READY=1');
    }
    if (m.stopping) this.cb.note('the program says it is stopping (STOPPING=1)');
    if (m.ready) {
      this.notifiedReady = true;
      if (this.isReady) this.armWatchdog();
      this.checkReady();
    }
    // A ping resets a running watchdog in any state (a long reload keeps pinging, as under systemd).
    if (m.watchdog === 'ping' || m.watchdogUsec !== undefined) {
      if (this.isReady || this.watchdog !== null) this.armWatchdog();
    }
  }

  // --- probes ---

  private scheduleProbe(i: number, delay: number): void {
    const run = this.run;
    this.later(delay, () => {
      const p = this.spec.probes[i];
      if (!p) return;
      void runProbe(p).then((r) => {
        if (!this.active || this.run !== run) return;
        if (r.ok) {
          if (this.isReady && this.probeFailures[i] !== 0) this.cb.note(`probe ${probeLabel(p)} passes again`);
          this.probeFailures[i] = 0;
          this.probePassed[i] = true;
          if (this.health?.startsWith(`probe ${probeLabel(p)}`)) this.health = null;
          this.checkReady();
        } else {
          const inGrace = this.now() - this.startedAt < p.grace;
          if (!inGrace) this.probeFailures[i] = (this.probeFailures[i] ?? 0) + 1;
          const n = this.probeFailures[i] ?? 0;
          this.health = `probe ${probeLabel(p)} failed ${n}/${p.failures}: ${r.detail}`;
          if (this.isReady && n >= p.failures) return this.hang(this.health);
        }
        // Until the program is ready, probe quickly: a first probe right at the spawn usually fails.
        this.scheduleProbe(i, this.isReady ? p.interval : Math.min(p.interval, STARTUP_PROBE_MS));
      });
    });
  }

  // --- heartbeat file ---

  private watchHeartbeat(file: string, timeoutMs: number): void {
    // Checks at the moment the heartbeat would be too old, so a hang is seen right at its timeout.
    const check = () => {
      let mtime: number | null = null;
      try {
        mtime = fs.statSync(file).mtimeMs;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const dir = file.slice(0, file.lastIndexOf('/')) || '/';
        this.health = code === 'ENOENT' && !fs.existsSync(dir) ? `heartbeat folder ${dir} does not exist` : `heartbeat file ${file}: ${code ?? 'unreadable'}`;
      }
      const last = Math.max(mtime ?? 0, this.startedAt);
      const age = this.now() - last;
      if (mtime !== null && mtime >= this.startedAt) this.health = null;
      if (age > timeoutMs) return this.hang(`heartbeat file ${file} not touched for ${Math.round(age)}ms (timeout ${timeoutMs}ms)${mtime === null ? `; ${this.health}` : ''}`);
      this.later(Math.max(5, timeoutMs - age + 1), check);
    };
    this.later(timeoutMs + 1, check);
  }
}
