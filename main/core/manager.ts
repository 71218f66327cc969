import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ArmoryConfig } from '../../common/config/document.js';
import { formatProblems, parseConfigText } from '../../common/config/load.js';
import { LOCAL_NODE } from '../../common/config/placement.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { AppendLog } from '../../common/node/append-log.js';
import { writeFileAtomic } from '../../common/node/fsync.js';
import { ControlClient } from '../../common/node/rpc-client.js';
import type { ServiceStatus } from '../../common/wire/service-status.js';
import { diffConfigs, type ConfigDiff } from './config-diff.js';
import { signConfig } from './config-signing.js';
import { managerEventSchema, type ManagerEvent, type ManagerEventInput } from './events/manager-events.js';
import { waitForAgent } from './enrollment/agent-readiness.js';
import { Inventory } from './inventory/inventory.js';
import type { NodeRecord } from './inventory/inventory-schema.js';
import { managerHome, type ManagerHome } from './manager-home.js';
import { describeCertificate } from './pki/certificate-info.js';
import { loadOrCreateClusterPki, type ClusterPki } from './pki/cluster-pki.js';
import { issueCertificate } from './pki/issue-certificate.js';
import { plainKeyWrapper, type KeyWrapper } from './pki/key-store.js';

export interface NodeStatus {
  node: string;
  address: string;
  reachable: boolean;
  error?: string;
  services: ServiceStatus[];
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
  readonly inventory: Inventory;
  readonly events: AppendLog<ManagerEventInput>;

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

  /** Pushes the current signed configuration to one node (also used after enrolling it). */
  async pushTo(node: string): Promise<{ node: string; ok: boolean; message: string }> {
    const v = this.inventory.data.configVersions.at(-1);
    if (!v) return { node, ok: true, message: 'no configuration applied yet' };
    const yaml = fs.readFileSync(v.file, 'utf8');
    const signed = signConfig({ version: v.version, issuedAt: v.issuedAt, cluster: this.inventory.data.cluster, yaml }, this.pki.manager);
    try {
      const c = await this.connect(node);
      try {
        const r = await c.call('config.push', { config: signed });
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
            const s = await c.call('status');
            return { node, address: rec.address, reachable: true, services: s.services };
          } finally {
            c.close();
          }
        } catch (e) {
          return { node, address: rec.address, reachable: false, error: (e as Error).message, services: [] };
        }
      }),
    );
  }

  /**
   * Gathers a node's new events: everything after the last agent sequence number collected, so a
   * collection that was cut off resumes with no gap and no duplicate.
   */
  async collectEvents(node: string): Promise<number> {
    const rec = this.node(node);
    const c = await this.connect(node);
    try {
      const r = await c.call('events', { limit: 100_000, since: rec.lastEventSeq, follow: false });
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
    const desc = describeCertificate(cert.certPem);
    const record: NodeRecord = {
      address: '127.0.0.1',
      agentPort: options.agentPort,
      hostKey: null,
      sshUser: null,
      sshPort: null,
      profile: null,
      certificateFingerprint: desc.fingerprintSha256,
      certificateExpires: desc.notAfter.toISOString(),
      enrolledAt: new Date().toISOString(),
      install: { kind: 'local-keeper', stateDir: dir, keeperPid: keeper.pid ?? null },
      lastEventSeq: existing?.lastEventSeq ?? 0,
    };
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
      await c.call('shutdown');
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
