import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ArmoryConfig } from '../../common/config/document.js';
import { formatProblems, parseConfigText } from '../../common/config/load.js';
import { failoverChecks, type KnownInterface } from '../../common/config/failover-checks.js';
import { LOCAL_NODE } from '../../common/config/placement.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { AppendLog } from '../../common/node/append-log.js';
import { writeFileAtomic } from '../../common/node/fsync.js';
import { ControlClient } from '../../common/node/rpc-client.js';
import { withTimeout } from '../../common/node/with-timeout.js';
import { failoverBudget } from '../../common/config/failover-budget.js';
import type { GroupStatus, GroupSummary } from '../../common/wire/failover-status.js';
import type { ServiceStatus } from '../../common/wire/service-status.js';
import { diffConfigs, type ConfigDiff } from './config-diff.js';
import { signConfig } from './config-signing.js';
import { managerEventSchema, type ManagerEvent, type ManagerEventInput } from './events/manager-events.js';
import { waitForAgent } from './enrollment/agent-readiness.js';
import { Inventory } from './inventory/inventory.js';
import { certifiedNodeRecord } from './inventory/node-record.js';
import { ManagerJobs } from './jobs/manager-jobs.js';
import { ManagerDrills } from './drill/manager-drills.js';
import type { NodeRecord } from './inventory/inventory-schema.js';
import { managerHome, type ManagerHome } from './manager-home.js';
import { loadOrCreateClusterPki, type ClusterPki } from './pki/cluster-pki.js';
import { issueCertificate } from './pki/issue-certificate.js';
import { loadOrCreatePeerKey } from './pki/peer-key.js';
import { plainKeyWrapper, type KeyWrapper } from './pki/key-store.js';

/** How long the status round waits for an agent's answer, and for a batch of its events (up to 100,000). */
const STATUS_CALL_MS = 5000;
const EVENTS_CALL_MS = 15_000;
/** How long a configuration push waits for the agent to take it (verify, persist, reconcile). */
const PUSH_CALL_MS = 30_000;
/** How long a control call that the agent answers at once (move, drain) waits for that answer. */
const CONTROL_CALL_MS = 5000;
/** How long the local agent has to answer `shutdown` (it answers, then stops its programs). */
const SHUTDOWN_CALL_MS = 5000;
/** A node that still runs an older configuration after a catch-up push is sent the last one again after this long. */
const CATCH_UP_AGAIN_MS = 60_000;

export interface NodeStatus {
  node: string;
  address: string;
  reachable: boolean;
  error?: string;
  services: ServiceStatus[];
  /** The failover groups the node votes in, as it sees them. */
  failover?: GroupStatus[];
}

export interface ApplyResult {
  version: number | null;
  diff: ConfigDiff;
  pushed: { node: string; ok: boolean; message: string }[];
  warnings: string[];
}

/**
 * The Electron-free manager core: the cluster PKI, the inventory, configuration versions (validated,
 * diffed, signed, pushed), the event journal gathered from every agent, and the local node.
 */
export class Manager {
  readonly home: ManagerHome;
  private pki!: ClusterPki;
  private peerKey!: Buffer;
  readonly inventory: Inventory;
  readonly events: AppendLog<ManagerEventInput>;
  /** Redundant jobs: runs, votes and kept results. */
  readonly jobs: ManagerJobs;
  /** Failover drills: inject a fault, measure the failover, keep the report. */
  readonly drills: ManagerDrills;

  /**
   * `nodePath` runs the local node's agent: this process's own Node by default; the desktop app,
   * whose executable is Electron, passes the Node runtime it ships.
   */
  constructor(
    env: NodeJS.ProcessEnv = process.env,
    private readonly keys: KeyWrapper = plainKeyWrapper,
    private readonly options: { nodePath?: string } = {},
  ) {
    this.home = managerHome(env);
    this.inventory = new Inventory(this.home.inventoryFile, (info) =>
      this.note(`inventory was ${info.problem}; using the last good copy (${info.usedBackup})`),
    );
    this.events = new AppendLog(this.home.eventsDir, managerEventSchema as never, { segmentBytes: 8 * 1024 * 1024, segments: 8 });
    this.jobs = new ManagerJobs(this);
    this.drills = new ManagerDrills(this);
  }

  private pendingNotes: string[] = [];
  private note(reason: string): void {
    this.pendingNotes.push(reason);
  }

  async open(): Promise<void> {
    fs.mkdirSync(this.home.root, { recursive: true, mode: 0o700 });
    this.events.open();
    const inv = await this.inventory.load();
    this.pki = await loadOrCreateClusterPki(this.home.pkiDir, this.keys, { clusterName: inv.cluster });
    this.peerKey = await loadOrCreatePeerKey(this.home.pkiDir);
    for (const reason of this.pendingNotes.splice(0)) this.events.append({ time: new Date().toISOString(), node: 'manager', agentSeq: 0, kind: 'manager', reason });
  }

  close(): void {
    this.events.close();
  }

  get caPem(): string {
    return this.pki.ca.certPem;
  }

  /** Connects to an enrolled node's agent over mutual TLS. */
  connect(name: string, timeoutMs = 5000): Promise<ControlClient> {
    const n = this.node(name);
    return ControlClient.connectTls({
      host: n.address,
      port: n.agentPort,
      caPem: this.pki.ca.certPem,
      certPem: this.pki.manager.certPem,
      keyPem: this.pki.manager.keyPem,
      expectName: name,
      timeoutMs,
    });
  }

  node(name: string): NodeRecord {
    const n = this.inventory.data.nodes[name];
    if (!n) throw new ArmoryError('MANAGER_E_UNKNOWN_NODE', `no enrolled node named "${name}" (enrolled: ${Object.keys(this.inventory.data.nodes).join(', ') || 'none'})`);
    return n;
  }

  /** Issues a node its agent certificate. */
  issueNodeCertificate(name: string, address: string) {
    const isIp = /^[\d.]+$|:/.test(address);
    return issueCertificate(this.pki.ca, { role: 'agent', name, ...(isIp ? { ipAddresses: [address] } : { dnsNames: [address] }) });
  }

  get pkiMaterial(): ClusterPki {
    return this.pki;
  }

  // --- configuration versions ---

  private lastApplied(): { version: number; yaml: string } | null {
    const v = this.inventory.data.configVersions.at(-1);
    if (!v) return null;
    return { version: v.version, yaml: fs.readFileSync(v.file, 'utf8') };
  }

  /** Validates, diffs, signs and pushes a configuration to every enrolled node; with dryRun only validates and diffs. */
  async apply(yaml: string, options: { dryRun?: boolean; file?: string } = {}): Promise<ApplyResult> {
    const parsed = parseConfigText(yaml);
    if (!parsed.ok) throw new ArmoryError('CONFIG_E_INVALID', `${options.file ?? 'the configuration'} is not valid:\n${formatProblems(parsed.problems, options.file ?? 'config')}`, { problems: parsed.problems });
    const refused = failoverChecks(parsed.config, this.knownInterfaces(), this.missingVipCommands());
    if (refused.length > 0) {
      const first = refused[0] as (typeof refused)[number];
      throw new ArmoryError(first.code, `${options.file ?? 'the configuration'} is refused:\n${refused.map((i) => `  ${i.path.join('.')}: ${i.message} [${i.code}]`).join('\n')}`, { problems: refused });
    }
    const prev = this.lastApplied();
    const prevParsed = prev ? parseConfigText(prev.yaml) : null;
    const prevConfig: ArmoryConfig | null = prevParsed?.ok ? prevParsed.config : null;
    const diff = diffConfigs(prevConfig, parsed.config);
    const enrolled = Object.keys(this.inventory.data.nodes);
    const warnings = Object.keys(parsed.config.nodes)
      .filter((n) => !enrolled.includes(n))
      .map((n) => `node ${n} is in the configuration but not enrolled (armory node add)`);
    const needsLocal = Object.values(parsed.config.services).some((s) => s.placement.nodes.length === 0);
    if (needsLocal && !enrolled.includes(LOCAL_NODE)) warnings.push('services without placement run on the local node, which is not enrolled (armory node add local)');
    if (options.dryRun) return { version: null, diff, pushed: [], warnings };

    const version = (prev?.version ?? 0) + 1;
    const issuedAt = new Date().toISOString();
    const file = path.join(this.home.configsDir, `v${version}.yaml`);
    fs.mkdirSync(this.home.configsDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, yaml);
    await this.inventory.update((d) => {
      d.configVersions.push({ version, issuedAt, sha256: createHash('sha256').update(yaml).digest('hex'), file });
    });
    const pushed = await Promise.all(enrolled.map((node) => this.pushTo(node)));
    return { version, diff, pushed, warnings };
  }

  /** The network interfaces of each enrolled node, from the host profile taken at enrollment (null: none taken). */
  private knownInterfaces(): Record<string, KnownInterface[] | null> {
    const out: Record<string, KnownInterface[] | null> = {};
    for (const [node, rec] of Object.entries(this.inventory.data.nodes)) {
      const ifs = rec.profile?.interfaces;
      out[node] = Array.isArray(ifs)
        ? ifs.filter((i): i is KnownInterface => typeof i?.name === 'string' && Array.isArray(i.addresses)).map((i) => ({ name: i.name, addresses: i.addresses.filter((a) => typeof a === 'string') }))
        : null;
    }
    return out;
  }

  /** The virtual-IP commands each enrolled node lacked when its host profile was taken. */
  private missingVipCommands(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [node, rec] of Object.entries(this.inventory.data.nodes)) {
      const lacks = rec.profile?.missingVipCommands;
      if (Array.isArray(lacks)) out[node] = lacks.filter((c): c is string => typeof c === 'string');
    }
    return out;
  }

  /** Pushes the current signed configuration to one node (also used after enrolling it). */
  async pushTo(node: string): Promise<{ node: string; ok: boolean; message: string }> {
    const v = this.inventory.data.configVersions.at(-1);
    if (!v) return { node, ok: true, message: 'no configuration applied yet' };
    const yaml = fs.readFileSync(v.file, 'utf8');
    const signed = signConfig({ version: v.version, issuedAt: v.issuedAt, cluster: this.inventory.data.cluster, yaml }, this.pki.manager);
    try {
      const c = await this.connect(node);
      try {
        const r = await withTimeout(c.call('config.push', { config: signed, peerKey: this.peerKey.toString('base64') }), PUSH_CALL_MS);
        return { node, ok: true, message: r.message };
      } finally {
        c.close();
      }
    } catch (e) {
      const err = e as ArmoryError;
      if (err.code === 'AGENT_E_CONFIG_STALE') return { node, ok: true, message: `already at v${v.version}` };
      return { node, ok: false, message: `${err.message}${err.code ? ` [${err.code}]` : ''}` };
    }
  }

  // --- status and events ---

  async status(): Promise<NodeStatus[]> {
    return Promise.all(
      Object.entries(this.inventory.data.nodes).map(async ([node, rec]) => {
        try {
          const c = await this.connect(node, 3000);
          try {
            // Bounded: an agent that takes the call and never answers must not hold the GUI's live feed.
            const s = await withTimeout(c.call('status'), STATUS_CALL_MS);
            this.catchUp(node, s.agent.configVersion);
            const f = await withTimeout(c.call('failover.status'), STATUS_CALL_MS).catch(() => ({ groups: [] }));
            return { node, address: rec.address, reachable: true, services: s.services, failover: f.groups };
          } finally {
            c.close();
          }
        } catch (e) {
          return { node, address: rec.address, reachable: false, error: (e as Error).message, services: [] };
        }
      }),
    );
  }

  private readonly catchingUp = new Set<string>();
  /** The last catch-up push per node: a version the node refuses (or took and does not run) is not sent again every round. */
  private readonly caughtUp = new Map<string, { version: number; at: number }>();

  /**
   * A node whose agent runs an older configuration than the last one applied (it did not answer
   * when that was pushed: starting, cut off, stopped) is sent the last one now, once at a time per
   * node, and the journal says so. `reported` is the agent's `configVersion` ("v3", "none yet").
   */
  private catchUp(node: string, reported: string): void {
    const latest = this.inventory.data.configVersions.at(-1)?.version;
    const has = Number(/^v(\d+)$/.exec(reported)?.[1] ?? 0);
    if (latest === undefined || has >= latest || this.catchingUp.has(node)) return;
    const last = this.caughtUp.get(node);
    if (last?.version === latest && Date.now() - last.at < CATCH_UP_AGAIN_MS) return;
    this.catchingUp.add(node);
    // Once a minute at most per version: a node that answers and still refuses it says why in its own journal.
    this.caughtUp.set(node, { version: latest, at: Date.now() });
    void this.pushTo(node)
      .then((r) => {
        if (!r.ok || r.message.startsWith('already at')) return;
        this.events.append({ time: new Date().toISOString(), node: 'manager', agentSeq: 0, kind: 'manager', reason: `node ${node} ran configuration ${reported}, older than v${latest} (it missed that push): v${latest} sent now` });
      })
      .catch(() => undefined) // closed meanwhile: the next status round tries again
      .finally(() => this.catchingUp.delete(node));
  }

  // --- failover ---

  /** Each group of the applied configuration: its active node, epoch, heartbeat health and failover budget. */
  async groups(): Promise<GroupSummary[]> {
    const prev = this.lastApplied();
    const parsed = prev ? parseConfigText(prev.yaml) : null;
    if (!parsed?.ok) return [];
    const nodes = await this.status();
    return Object.entries(parsed.config.groups).map(([name, g]) => {
      const voters = [...g.members.map((m) => m.node), ...(g.witness ? [g.witness] : [])];
      const seen = nodes.flatMap((n) => (n.failover ?? []).filter((x) => x.group === name));
      const active = seen.find((x) => x.state === 'active') ?? seen.find((x) => x.activeNode !== null);
      const startMs = Math.max(0, ...seen.map((x) => x.lastStartMs ?? 0));
      // The active node's word on whose copy lags (the voters pass it on; the active's is the newest).
      const lagging = new Set((seen.find((x) => x.state === 'active') ?? seen[0])?.lagging ?? []);
      return {
        group: name,
        services: [...g.services],
        activeNode: active ? (active.state === 'active' ? active.node : active.activeNode) : null,
        epoch: Math.max(0, ...seen.map((x) => x.epoch)),
        members: voters.map((v) => {
          const n = nodes.find((x) => x.node === v);
          const own = seen.find((x) => x.node === v);
          return { node: v, state: own?.state ?? null, ready: own?.ready ?? null, reachable: n?.reachable ?? false, ...(lagging.has(v) ? { lagging: true } : {}) };
        }),
        heartbeats: seen.flatMap((x) => x.peers.map((p) => ({ from: x.node, to: p.node, lastHeardMs: p.lastHeardMs, fresh: p.fresh }))),
        budget: failoverBudget(g.heartbeat, g.failAfter, startMs),
      };
    });
  }

  /** Moves a service (and the rest of its group) to a member node. */
  async move(service: string, to: string): Promise<{ node: string; ok: boolean; message: string }[]> {
    const prev = this.lastApplied();
    const parsed = prev ? parseConfigText(prev.yaml) : null;
    const group = parsed?.ok ? Object.values(parsed.config.groups).find((g) => g.services.includes(service)) : undefined;
    if (!group) throw new ArmoryError('FAILOVER_E_UNKNOWN', `service "${service}" is in no failover group of the applied configuration`);
    if (!group.members.some((m) => m.node === to)) throw new ArmoryError('FAILOVER_E_UNKNOWN', `${to} is no member of the group that carries ${service} (members: ${group.members.map((m) => m.node).join(', ')})`);
    return Promise.all(group.members.map((m) => this.callNode(m.node, (c) => c.call('failover.move', { name: service, to, ms: 10_000 }))));
  }

  /** Drains a node (it steps down from every group and stands for none), or makes it available again. */
  async drain(node: string, drained: boolean): Promise<string> {
    const r = await this.callNode(node, (c) => c.call('failover.drain', { drained }));
    if (!r.ok) throw new ArmoryError('AGENT_E_UNREACHABLE', `${node}: ${r.message}`);
    return r.message;
  }

  private async callNode(node: string, call: (c: ControlClient) => Promise<{ message: string }>): Promise<{ node: string; ok: boolean; message: string }> {
    try {
      const c = await this.connect(node);
      try {
        // Bounded: an agent that took the call and went silent (hung, its link cut) must not hold the caller.
        return { node, ok: true, message: (await withTimeout(call(c), CONTROL_CALL_MS)).message };
      } finally {
        c.close();
      }
    } catch (e) {
      const err = e as ArmoryError;
      return { node, ok: false, message: `${err.message}${err.code ? ` [${err.code}]` : ''}` };
    }
  }

  private readonly collecting = new Map<string, Promise<number>>();

  /**
   * Gathers a node's new events: everything after the last agent sequence number collected, so a
   * collection that was cut off resumes with no gap and no duplicate. One collection per node runs
   * at a time (the live feed and a drill both collect): two at once would start from the same number.
   */
  collectEvents(node: string): Promise<number> {
    const next = (this.collecting.get(node) ?? Promise.resolve(0)).catch(() => 0).then(() => this.collectEventsNow(node));
    this.collecting.set(node, next);
    const forget = () => void (this.collecting.get(node) === next && this.collecting.delete(node));
    next.then(forget, forget);
    return next;
  }

  private async collectEventsNow(node: string): Promise<number> {
    const rec = this.node(node);
    const c = await this.connect(node);
    try {
      const r = await withTimeout(c.call('events', { limit: 100_000, since: rec.lastEventSeq, follow: false }), EVENTS_CALL_MS);
      let last = rec.lastEventSeq;
      for (const e of r.events) {
        if (e.seq <= last) continue;
        const { seq, ...rest } = e;
        this.events.append({ ...rest, node, agentSeq: seq });
        last = seq;
      }
      await this.events.flush();
      if (last !== rec.lastEventSeq) await this.inventory.update((d) => ((d.nodes[node] as NodeRecord).lastEventSeq = last));
      return r.events.length;
    } finally {
      c.close();
    }
  }

  /** The journal, by node, service and time (ISO bounds, inclusive from, exclusive until). */
  readEvents(query: { node?: string; service?: string; since?: number; limit?: number; from?: string; until?: string } = {}): ManagerEvent[] {
    const from = query.from !== undefined ? Date.parse(query.from) : Number.NEGATIVE_INFINITY;
    const until = query.until !== undefined ? Date.parse(query.until) : Number.POSITIVE_INFINITY;
    return this.events.read({
      ...(query.since !== undefined ? { since: query.since } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      filter: (e) => {
        const t = Date.parse(e.time);
        return (!query.node || e.node === query.node) && (!query.service || e.service === query.service) && t >= from && t < until;
      },
    }) as ManagerEvent[];
  }

  // --- the local node ---

  /**
   * Enrolls this machine as the node `local`: issues its certificate, starts its agent under the
   * keeper (detached, so that it outlives the manager) and waits until it answers over mutual TLS.
   */
  async addLocalNode(options: { agentPort: number; agentBin: string }): Promise<NodeRecord> {
    const dir = this.home.localAgentDir;
    const tlsDir = path.join(dir, 'tls');
    fs.mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
    const cert = await this.issueNodeCertificate(LOCAL_NODE, '127.0.0.1');
    await writeFileAtomic(path.join(tlsDir, 'ca.pem'), this.pki.ca.certPem, 0o644);
    await writeFileAtomic(path.join(tlsDir, 'node.pem'), cert.certPem, 0o644);
    await writeFileAtomic(path.join(tlsDir, 'node.key'), cert.keyPem, 0o600);
    const existing = this.inventory.data.nodes[LOCAL_NODE];
    if (existing) await this.stopLocalAgent().catch(() => undefined);
    const log = fs.openSync(path.join(dir, 'keeper.log'), 'a', 0o600);
    const keeper = spawn(this.options.nodePath ?? process.execPath, [options.agentBin, 'keeper', '--listen', `127.0.0.1:${options.agentPort}`, '--state-dir', dir], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    keeper.unref();
    fs.closeSync(log);
    const record = certifiedNodeRecord({
      address: '127.0.0.1',
      agentPort: options.agentPort,
      certPem: cert.certPem,
      install: { kind: 'local-keeper', stateDir: dir, keeperPid: keeper.pid ?? null },
      ...(existing ? { lastEventSeq: existing.lastEventSeq } : {}),
    });
    await this.inventory.update((d) => (d.nodes[LOCAL_NODE] = record));
    await this.waitForAgent(LOCAL_NODE, 15_000);
    await this.pushTo(LOCAL_NODE);
    return record;
  }

  /** Waits (bounded) until a node's agent answers `hello` over mutual TLS. */
  async waitForAgent(node: string, timeoutMs: number): Promise<void> {
    const n = this.node(node);
    await waitForAgent({ host: n.address, port: n.agentPort, node, caPem: this.pki.ca.certPem, manager: this.pki.manager, timeoutMs });
  }

  private async stopLocalAgent(): Promise<void> {
    const c = await this.connect(LOCAL_NODE, 2000);
    try {
      await withTimeout(c.call('shutdown'), SHUTDOWN_CALL_MS);
    } finally {
      c.close();
    }
    const pidFile = path.join(this.home.localAgentDir, 'agent.pid');
    const deadline = Date.now() + 15_000;
    while (fs.existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  /** Removes a node: stops its programs and agent and forgets it. (Remote nodes: see enrollment.) */
  async removeLocalNode(): Promise<void> {
    if (!this.inventory.data.nodes[LOCAL_NODE]) throw new ArmoryError('MANAGER_E_UNKNOWN_NODE', 'the local node is not enrolled');
    await this.stopLocalAgent().catch(() => undefined);
    fs.rmSync(this.home.localAgentDir, { recursive: true, force: true });
    await this.inventory.update((d) => {
      delete d.nodes[LOCAL_NODE];
    });
  }
}
