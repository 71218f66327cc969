import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { ArmoryConfig } from '../common/config/document.js';
import type { ServiceConfig } from '../common/config/service.js';
import { ArmoryError } from '../common/errors/armory-error.js';
import { AppendLog } from '../common/node/append-log.js';
import { writeFileAtomic } from '../common/node/fsync.js';
import type { ResultOf } from '../common/wire/agent-control.js';
import { serviceMetrics } from '../common/wire/metrics.js';
import { agentEventSchema, type AgentEvent, type AgentEventInput } from '../common/wire/service-status.js';
import type tls from 'node:tls';
import { ControlServer, type ControlHandlers } from './api/control-server.js';
import { startTlsServer, type TlsMaterial } from './api/tls-server.js';
import type { ConfigSource, LoadedConfig } from './config-source/config-source.js';
import { FileConfigSource } from './config-source/file-source.js';
import { SignedConfigSource } from './config-source/signed-source.js';
import { AgentJobs } from './jobs/agent-jobs.js';
import { DrillInjector } from './drill/drill-injector.js';
import { NotifyHub, type NotifyDatagram } from './liveness/notify-hub.js';
import { isEmptyNotify, parseNotifyMessage } from './liveness/notify-message.js';
import { pollThread } from './os/poll-thread.js';
import { Failover, type FailoverView } from './peers/failover.js';
import { lookupUser } from './supervisor/user.js';
import { AgentStateJournal } from './journal/agent-state.js';
import { planReconcile } from './reconcile.js';
import { lockStateDir, prepareStateDir, stateDirLayout, type StateDirLayout } from './state-dir.js';
import { findProcessesByEnv, signalGroup } from './supervisor/proc.js';
import { isSameLiveProcess, readProcStat } from '../common/node/proc-stat.js';
import { REASONS } from './supervisor/reasons.js';
import { StateElements } from './replication/state-elements.js';
import { placementRoles, type ServiceRoles } from './replication/service-roles.js';
import { LOCAL_NODE } from '../common/config/placement.js';
import { ServiceRunner } from './supervisor/service-runner.js';
import { ShimHost } from './shims/shim-host.js';
import { AGENT_VERSION } from './version.js';
import { WIRE_FEATURE_ATTACHMENTS } from '../common/wire/protocol.js';

export interface AgentOptions {
  /** Where the desired state comes from: a local file, or configurations the manager signed. */
  source: ConfigSource;
  stateDir: string;
  log: Logger;
  watchConfig?: boolean;
  /** An enrolled agent also serves its API over mutual TLS to the manager and its peers. */
  tls?: { material: TlsMaterial; listen: { host: string; port: number } };
  /** Epochs and active/standby roles of services (failover); default: epoch 0, first placement node active. */
  roles?: ServiceRoles;
}

const EVENT_LOG = { segmentBytes: 4 * 1024 * 1024, segments: 4 };

/**
 * The agent's composition root: it loads its state journal and configuration, re-adopts the
 * programs an earlier agent left running, reconciles what runs with what is desired, and serves
 * the control API. It never stops a program merely because it is itself going away.
 */
export class Agent {
  readonly layout: StateDirLayout;
  private readonly events: AppendLog<AgentEventInput>;
  private readonly journal: AgentStateJournal;
  private readonly runners = new Map<string, ServiceRunner>();
  private readonly notifyHub: NotifyHub;
  private readonly jobs: AgentJobs;
  private readonly shims: ShimHost;
  private readonly drill: DrillInjector;
  /** Checkpoints and file mirroring. */
  readonly state: StateElements;
  private readonly lastRefusal = new Map<string, number>();
  private server: ControlServer | null = null;
  private watcher: { close(): Promise<void> } | null = null;
  private configVersion = 'none';
  private tlsServer: tls.Server | null = null;
  private config: ArmoryConfig | null = null;
  private configText = '';
  private persistQueued = false;
  private readonly startedAt = new Date().toISOString();
  private exitResolve: ((code: number) => void) | null = null;
  readonly exited: Promise<number>;
  /** Node failover (enrolled agents only): decides where grouped services run. */
  private readonly failover: Failover | null;

  constructor(private readonly options: AgentOptions) {
    this.layout = stateDirLayout(options.stateDir);
    this.events = new AppendLog(this.layout.eventsDir, agentEventSchema as never, EVENT_LOG);
    this.journal = new AgentStateJournal(this.layout.stateFile, (info) =>
      this.event({ kind: 'store', reason: `state journal was ${info.problem}; using the last good copy`, detail: { ...info } }),
    );
    this.exited = new Promise((resolve) => (this.exitResolve = resolve));
    this.notifyHub = new NotifyHub(`${this.layout.root}/notify`, (d) => this.onNotify(d));
    this.jobs = new AgentJobs({ stateDir: this.layout.root, instance: () => this.journal.data.instance, jobs: () => this.config?.jobs ?? {}, journal: (e) => this.event(e) });
    this.failover =
      options.source instanceof SignedConfigSource
        ? new Failover({
            node: options.source.node,
            stateDir: `${this.layout.root}/peers`,
            journal: (e) => this.event(e),
            // A takeover puts the newest checkpointed state file back before the program starts.
            startService: (name, reason) => void this.state.refresh().finally(() => this.runners.get(name)?.start(reason)),
            stopService: (name, reason) => this.runners.get(name)?.stop(reason),
            lagging: (services) => services.flatMap((s) => this.state.mirrors.lagging(s)),
          })
        : null;
    this.shims = new ShimHost({
      material: options.tls?.material ?? null,
      // Without a VIP the client end follows the node failover names as active.
      activeNodeOf: (service) => this.failover?.activeNodeOf(service) ?? null,
      journal: (e) => this.event({ kind: 'shim', ...(e.service ? { service: e.service } : {}), reason: e.text, detail: { end: e.end, session: e.session, code: e.code } }),
      // waitForMirror: a reply goes out once the mirror has the writes made before it.
      barrierOf: (service) => this.state.mirrors.barrier(service),
      // onMove resend: a session outlives the death of the service's process on this node.
      serviceProcess: (service) => this.runners.get(service)?.mainProcess ?? null,
    });
    const node = options.tls?.material.node ?? (options.source instanceof SignedConfigSource ? options.source.node : LOCAL_NODE);
    this.drill = new DrillInjector({ node, stateDir: this.layout.root, config: () => this.config, processGroup: (s) => this.runners.get(s)?.processGroup ?? null, journal: (e) => this.event(e) });
    this.state = new StateElements({ root: this.layout.root, node, tls: options.tls?.material ?? null, config: () => this.config, event: (e) => this.event(e), runsHere: (s) => s in this.desiredServices(), roles: options.roles ?? this.stateRoles(node) });
  }

  /** What checkpoints, mirror and shims may read of failover (epochs, active nodes, takeovers). */
  get failoverView(): FailoverView | null {
    return this.failover;
  }

  private peerKey(): Buffer | null {
    try {
      return fs.readFileSync(`${this.layout.root}/peer.key`);
    } catch {
      return null;
    }
  }

  /** Starts and stops the session shim ends this node carries under the current configuration. */
  private reconcileShims(): Promise<void> {
    return this.config ? this.shims.reconcile(this.config, new Set(Object.keys(this.desiredServices()))) : Promise.resolve();
  }

  /** Who holds a service's state: failover decides for the services of its groups; the placement's first node for the rest. */
  private stateRoles(node: string): ServiceRoles {
    const place = placementRoles(() => this.config, node);
    return {
      epochOf: (s) => this.failover?.epochOf(s) ?? place.epochOf(s),
      isActive: (s) => (this.failover?.controls(s) ? this.failover.isActiveHere(s) : place.isActive(s)),
      peerSilent: (s, n) => this.failover?.peerSilent(s, n) ?? false,
    };
  }

  /** A notify datagram: accepted only from the service's own process group, and only when well formed. */
  private onNotify(d: NotifyDatagram): void {
    const runner = this.runners.get(d.service);
    if (!runner) return;
    const refuse = (why: string) => {
      // One event per service and kind of refusal per 10 s: a noisy or hostile sender cannot flood the journal.
      const now = Date.now();
      const key = `${d.service}\0${why.replace(/\d+/g, '#')}`;
      if (now - (this.lastRefusal.get(key) ?? 0) < 10_000) return;
      if (this.lastRefusal.size > 1000) this.lastRefusal.clear();
      this.lastRefusal.set(key, now);
      this.event({ kind: 'liveness', service: d.service, reason: `notify message ignored: ${why}`, detail: { pid: d.pid } });
    };
    if (d.truncated) return refuse('datagram larger than 4096 bytes');
    const parsed = parseNotifyMessage(d.data);
    if (!parsed.ok) return refuse(parsed.error);
    // BARRIER=1 (systemd-notify's second datagram) asks for nothing; its sender may already be gone.
    if (isEmptyNotify(parsed.message)) return;
    const group = runner.processGroup;
    if (group === null || d.pgrp !== group) return refuse(`sender pid ${d.pid ?? '?'} is outside the service's process group`);
    runner.notify(parsed.message);
  }

  private event(e: AgentEventInput): AgentEvent {
    const full = this.events.append(e) as AgentEvent;
    this.options.log.info({ seq: full.seq, kind: e.kind, service: e.service, from: e.from, to: e.to, detail: e.detail }, e.reason);
    return full;
  }

  private persist = (): void => {
    if (this.persistQueued) return;
    this.persistQueued = true;
    setImmediate(() => {
      this.persistQueued = false;
      const services: Record<string, ReturnType<ServiceRunner['snapshot']>> = {};
      for (const [name, r] of this.runners) services[name] = r.snapshot();
      this.journal.data.services = services;
      this.journal.save().catch((e: unknown) => this.options.log.error({ err: e }, 'cannot save the agent state journal'));
    });
  };

  private loadConfig(): { ok: true; loaded: LoadedConfig } | { ok: false; error: ArmoryError } {
    try {
      return { ok: true, loaded: this.options.source.load() };
    } catch (e) {
      return { ok: false, error: e instanceof ArmoryError ? e : new ArmoryError('CONFIG_E_UNREADABLE', (e as Error).message) };
    }
  }

  /** The services of the current configuration that this node runs. */
  private desiredServices(): Record<string, ServiceConfig> {
    if (!this.config) return {};
    const out = this.options.source.select(this.config);
    // Services of this node's failover groups are ready on every member; failover starts them where active.
    if (this.failover) for (const name of Failover.servicesOf(this.config, this.failover.host.node)) if (this.config.services[name]) out[name] = this.config.services[name];
    return out;
  }

  async start(): Promise<void> {
    prepareStateDir(this.layout);
    lockStateDir(this.layout);
    this.events.open();
    const state = await this.journal.load(() => randomBytes(8).toString('hex'));

    if (this.options.source instanceof SignedConfigSource) await this.options.source.open();
    const loaded = this.loadConfig();
    if (loaded.ok) {
      this.config = loaded.loaded.config;
      this.configText = loaded.loaded.text;
      this.configVersion = loaded.loaded.version;
    } else if (state.appliedConfig !== null && this.options.source instanceof FileConfigSource) {
      const fallback = FileConfigSource.parse(state.appliedConfig, 'the last good configuration');
      this.config = fallback.config;
      this.configText = state.appliedConfig;
      this.configVersion = fallback.version;
      this.event({ kind: 'config', reason: `configuration refused; running the last good one\n${loaded.error.message}`, detail: { code: loaded.error.code } });
    } else {
      throw loaded.error;
    }
    this.journal.data.appliedConfig = this.options.source instanceof FileConfigSource ? this.configText : null;

    let adopted = 0;
    const desired = this.desiredServices();
    for (const [name, spec] of Object.entries(desired)) {
      const runner = this.makeRunner(name, spec);
      const snap = state.services[name];
      if (snap?.pid != null && snap.startTicks !== null && isSameLiveProcess(snap.pid, snap.startTicks)) {
        runner.adopt(snap.pid, snap.startTicks, snap);
        adopted += 1;
      }
    }
    // Services the journal knows but the configuration no longer names.
    for (const [name, snap] of Object.entries(state.services)) {
      if (desired[name] || snap.pid === null || snap.startTicks === null) continue;
      if (isSameLiveProcess(snap.pid, snap.startTicks)) {
        signalGroup(readProcStat(snap.pid)?.pgrp ?? snap.pid, 'SIGKILL');
        this.event({ kind: 'adoption', service: name, reason: 'removed from the configuration while the agent was down; stopped', detail: { pid: snap.pid } });
      }
    }
    // Programs of this agent in no adopted group (the agent died between spawn and save, or what
    // is left of a program that ended meanwhile) would run unsupervised: stop them and say so,
    // before anything is started again (a leftover may hold the port).
    this.sweepStrays(state.instance);
    this.jobs.clearWork();
    // A program of a failover group is not restarted here: failover starts it if this node takes the group.
    const grouped = new Set(this.failover && this.config ? Failover.servicesOf(this.config, this.failover.host.node) : []);
    for (const [name, runner] of this.runners) {
      const snap = state.services[name];
      if (!snap || runner.processGroup !== null) continue;
      if (snap.pid !== null && grouped.has(name)) {
        runner.restore(snap);
        this.event({ kind: 'adoption', service: name, reason: `${REASONS.vanished}; its failover group decides where it runs again`, detail: { pid: snap.pid } });
      } else if (snap.pid !== null) runner.vanished(snap);
      else runner.restore(snap);
    }
    await this.drill.undoLeftovers();
    if (this.failover && this.config) await this.failover.configure(this.config, this.peerKey());
    await this.state.refresh();
    for (const [name, runner] of this.runners) {
      const snap = state.services[name];
      if (this.failover?.controls(name)) continue;
      if (runner.current === 'stopped' && (snap ? snap.desired === 'up' : runner.config.autostart)) runner.start(REASONS.autostart);
    }
    this.persist();
    await this.journal.save();

    this.server = new ControlServer(this.layout.socket, this.handlers());
    await this.server.listen();
    if (this.options.tls) {
      const server = this.server;
      this.tlsServer = await startTlsServer(this.options.tls.material, this.options.tls.listen, (socket, caller) => server.attach(socket, caller));
    }
    await this.reconcileShims();
    if (this.options.watchConfig !== false) {
      this.watcher = this.options.source.watch(() => void this.reload('the configuration file changed').catch(() => undefined));
    }
    this.event({ kind: 'agent', reason: `agent started (pid ${process.pid}, ${this.runners.size} services, ${adopted} re-adopted)`, detail: { pid: process.pid, adopted, version: AGENT_VERSION } });
  }

  private sweepStrays(instance: string): void {
    const live = new Set<number>([...this.runners.values()].map((r) => r.processGroup ?? -1));
    for (const pid of findProcessesByEnv('ARMORY_INSTANCE', instance)) {
      const st = readProcStat(pid);
      if (!st || st.state === 'Z' || live.has(st.pgrp)) continue;
      signalGroup(st.pgrp, 'SIGKILL');
      this.event({ kind: 'adoption', reason: 'found a program of this agent that its journal does not name; stopped it', detail: { pid, pgrp: st.pgrp } });
    }
  }

  private makeRunner(name: string, spec: ServiceConfig): ServiceRunner {
    const runner = new ServiceRunner(name, spec, {
      instance: this.journal.data.instance,
      runDir: this.layout.runDir,
      logDir: this.layout.logDir,
      journal: (e) => {
        this.event(e);
        if (e.kind === 'transition' && e.to !== undefined) this.failover?.serviceChanged(name, e.to);
      },
      persist: this.persist,
      canEscalate: () => spec.placement.nodes.length > 1 || (this.failover?.controls(name) ?? false),
      notifySocket: (service, s) => {
        const user = s.user !== undefined ? lookupUser(s.user) : undefined;
        return this.notifyHub.open(service, user ? { uid: user.uid, gid: user.gid } : undefined);
      },
      checkpointSocket: (service, s) => {
        const user = s.user !== undefined ? lookupUser(s.user) : undefined;
        return this.state.checkpoints.socketFor(service, user ? { uid: user.uid, gid: user.gid } : undefined);
      },
    });
    this.runners.set(name, runner);
    return runner;
  }

  /** Reads the configuration again and starts, stops or restarts only what changed. */
  async reload(why = 'reload requested'): Promise<ResultOf<'reload'>> {
    const result = this.loadConfig();
    if (!result.ok) {
      this.event({ kind: 'config', reason: `configuration refused; the running set is unchanged\n${result.error.message}`, detail: { code: result.error.code } });
      throw result.error;
    }
    const loaded = result.loaded;
    if (loaded.text === this.configText) return { message: 'configuration unchanged', started: [], stopped: [], restarted: [] };
    const current = new Map([...this.runners].map(([n, r]) => [n, r.config] as const));
    this.config = loaded.config;
    this.configText = loaded.text;
    this.configVersion = loaded.version;
    const desired = this.desiredServices();
    const plan = planReconcile(current, desired);
    // Mirrored folders exist (and are watched) before a program starts on them.
    await this.state.refresh();
    this.journal.data.appliedConfig = this.options.source instanceof FileConfigSource ? loaded.text : null;
    for (const name of plan.remove) {
      const r = this.runners.get(name) as ServiceRunner;
      r.stop(REASONS.configRemoved);
      this.runners.delete(name);
      void r.whenIdle().then(() => {
        r.dispose();
        this.notifyHub.close(name);
        this.state.checkpoints.closeService(name);
      });
    }
    const restarted: string[] = [];
    for (const name of plan.change) {
      const r = this.runners.get(name) as ServiceRunner;
      const wasUp = r.snapshot().desired === 'up';
      r.updateSpec(desired[name] as ServiceConfig);
      if (wasUp && (!this.failover?.controls(name) || this.failover.isActiveHere(name))) {
        r.restart(REASONS.configChanged);
        restarted.push(name);
      }
    }
    const started: string[] = [];
    for (const name of plan.add) {
      const spec = desired[name] as ServiceConfig;
      const r = this.makeRunner(name, spec);
      if (spec.autostart && !(this.failover && this.config && Failover.servicesOf(this.config, this.failover.host.node).includes(name))) {
        r.start(REASONS.configAdded);
        started.push(name);
      }
    }
    if (this.failover) await this.failover.configure(loaded.config, this.peerKey());
    this.persist();
    await this.reconcileShims();
    const message = `${why} (${loaded.version}): ${started.length} started, ${plan.remove.length} stopped, ${restarted.length} restarted, ${plan.keep.length} unchanged`;
    this.event({ kind: 'config', reason: message, detail: { started, stopped: plan.remove, restarted } });
    return { message, started, stopped: plan.remove, restarted };
  }

  private runner(name: string): ServiceRunner {
    const r = this.runners.get(name);
    if (!r) throw new ArmoryError('AGENT_E_UNKNOWN_SERVICE', `no service named "${name}" (known: ${[...this.runners.keys()].join(', ') || 'none'})`, { service: name });
    return r;
  }

  private handlers(): ControlHandlers {
    return {
      hello: () => ({ protocol: 1, agentVersion: AGENT_VERSION, pid: process.pid, startedAt: this.startedAt, features: [WIRE_FEATURE_ATTACHMENTS] }),
      status: () => ({
        agent: { pid: process.pid, startedAt: this.startedAt, configFile: this.options.source.description, configVersion: this.configVersion },
        services: [...this.runners.values()].map((r) => r.status()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        mirrors: this.state.mirrors.status(),
      }),
      start: ({ name }) => {
        this.runner(name).start();
        return { message: `${name}: start requested` };
      },
      stop: ({ name }) => {
        this.runner(name).stop();
        return { message: `${name}: stop requested` };
      },
      restart: ({ name }) => {
        this.runner(name).restart();
        return { message: `${name}: restart requested` };
      },
      reload: () => this.reload(),
      logs: ({ name, lines, follow }, emit, onClose) => {
        const r = this.runner(name);
        if (follow) {
          const sub = r.followLogs((line) => emit({ line }));
          onClose(() => sub.dispose());
        }
        return { lines: r.tailLogs(lines) };
      },
      events: (params, emit, onClose) => {
        const p = params ?? { limit: 100, follow: false };
        const filter = p.service ? (e: AgentEventInput) => e.service === p.service : undefined;
        const events = this.events.read({ limit: p.limit, ...(p.since !== undefined ? { since: p.since } : {}), ...(filter ? { filter } : {}) }) as AgentEvent[];
        if (p.follow) {
          const sub = this.events.subscribe((e) => {
            if (!filter || filter(e)) emit(e);
          });
          onClose(() => sub.dispose());
        }
        return { events };
      },
      'config.push': async ({ config, peerKey }) => {
        const source = this.options.source;
        if (!(source instanceof SignedConfigSource)) {
          throw new ArmoryError('AGENT_E_CONFIG_UNSIGNED', `this agent runs from its local file ${source.description}; it is not enrolled`);
        }
        try {
          if (peerKey !== undefined && !this.peerKey()?.equals(Buffer.from(peerKey, 'base64'))) {
            await writeFileAtomic(`${this.layout.root}/peer.key`, Buffer.from(peerKey, 'base64'), 0o600);
          }
          const verified = await source.accept(config);
          const r = await this.reload(`configuration v${verified.payload.version} from the manager`);
          return { version: verified.payload.version, ...r };
        } catch (e) {
          const err = e instanceof ArmoryError ? e : new ArmoryError('RPC_E_INTERNAL', (e as Error).message);
          this.event({ kind: 'config', reason: `pushed configuration refused: ${err.message}`, detail: { code: err.code } });
          throw err;
        }
      },
      'failover.status': () => ({ groups: this.failover?.status() ?? [] }),
      'failover.drain': ({ drained }) => {
        if (!this.failover) throw new ArmoryError('FAILOVER_E_UNKNOWN', 'this agent is not enrolled: it is in no failover group');
        this.failover.drain(drained);
        return { message: drained ? 'node drained: it steps down from every group' : 'node available for failover again' };
      },
      'failover.move': ({ name, to, ms }) => {
        if (!this.failover) throw new ArmoryError('FAILOVER_E_UNKNOWN', 'this agent is not enrolled: it is in no failover group');
        this.failover.move(name, to, ms);
        return { message: `${name}: moving to ${to}` };
      },
      'failover.clear': ({ name }) => {
        if (!this.failover?.controls(name)) throw new ArmoryError('FAILOVER_E_UNKNOWN', `service "${name}" is in no failover group of this node`, { service: name });
        this.failover.clearFailure(name);
        return { message: `${name}: this node may carry it again` };
      },
      'job.run': ({ name }) => this.jobs.run(name),
      'job.replica': (params) => this.jobs.replica(params),
      'job.results': ({ name, limit }) => this.jobs.results(name, limit),
      metrics: () => ({ text: serviceMetrics([...this.runners.values()].map((r) => r.status())) + this.state.metrics() }),
      ...this.state.handlers(),
      ...this.drill.handlers(),
      shutdown: () => {
        setImmediate(() => void this.shutdown());
        return { message: `stopping ${this.runners.size} services and the agent` };
      },
    };
  }

  /** Stops every program, then the agent (the keeper does not restart an agent that shut down). */
  async shutdown(): Promise<void> {
    this.event({ kind: 'agent', reason: 'shutdown requested: stopping every service' });
    await this.failover?.release();
    for (const r of this.runners.values()) r.stop('agent shutdown');
    this.jobs.stopAll();
    await Promise.all([...this.runners.values()].map((r) => r.whenIdle()));
    await this.close();
  }

  /** Lets go of every program without stopping it, saves state, and ends. */
  async detach(): Promise<void> {
    this.event({ kind: 'agent', reason: `agent exiting; ${[...this.runners.values()].filter((r) => r.snapshot().pid !== null).length} programs keep running and will be re-adopted` });
    await this.close();
  }

  private async close(): Promise<void> {
    await this.watcher?.close();
    this.failover?.close();
    await this.drill.close();
    await this.shims.stop();
    await this.state.close();
    const services: Record<string, ReturnType<ServiceRunner['snapshot']>> = {};
    for (const [name, r] of this.runners) services[name] = r.snapshot();
    this.journal.data.services = services;
    await this.journal.save();
    for (const r of this.runners.values()) r.detach();
    await this.server?.close();
    await new Promise<void>((resolve) => (this.tlsServer ? this.tlsServer.close(() => resolve()) : resolve()));
    await pollThread.stop();
    await this.events.flush();
    this.events.close();
    fs.rmSync(this.layout.pidFile, { force: true });
    this.exitResolve?.(0);
  }
}
