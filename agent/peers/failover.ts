import path from 'node:path';
import dgram from 'node:dgram';
import type { ArmoryConfig } from '../../common/config/document.js';
import type { GroupConfig } from '../../common/config/cluster.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { GroupStatus } from '../../common/wire/failover-status.js';
import type { AgentEventInput } from '../../common/wire/service-status.js';
import { HeldVips } from '../vip/held-vips.js';
import { VirtualIp } from '../vip/virtual-ip.js';
import { groupDeadlines } from './deadlines.js';
import { GroupMember, type OutsideEffect } from './group-member.js';
import { GroupStateFile } from './group-state-file.js';
import { HeldServices } from './held-services.js';
import { decodeHeartbeat, encodeHeartbeat } from './heartbeat-codec.js';

export interface FailoverHost {
  /** This node's name (from its certificate). */
  node: string;
  /** Folder for the durable per-group state. */
  stateDir: string;
  journal: (e: AgentEventInput) => void;
  startService: (name: string, reason: string) => void;
  stopService: (name: string, reason: string) => void;
  /** While this node is active: the members whose copy of these services' mirrored data lags (mirror target down or catching up). */
  lagging?: (services: readonly string[]) => string[];
}

/** A takeover, as other elements (checkpoints, mirror, shims) hear of it. */
export interface TakeoverEvent {
  group: string;
  services: readonly string[];
  epoch: number;
}

/** What other elements of the agent may read of failover. */
export interface FailoverView {
  /** The epoch in force of the service's group, as this node knows it (null: the service is in no group of this node). */
  epochOf(service: string): number | null;
  /** The node this one sees active for the service (null: none, or not in a group of this node). */
  activeNodeOf(service: string): string | null;
  /** True while this node holds the service's group (taking over or active). */
  isActiveHere(service: string): boolean;
  onTakeover(listener: (e: TakeoverEvent) => void): { dispose(): void };
}

interface RunningGroup {
  name: string;
  signature: string;
  config: GroupConfig;
  member: GroupMember;
  vips: VirtualIp[];
  timer: NodeJS.Timeout;
  lastBroadcast: number;
  addresses: Map<string, { host: string; port: number }>;
  /** A manual move under way: this node holds off unless it is the target, until the target is active or time runs out. */
  holdOff: { target: string; until: number } | null;
  /** When the services were last started here on a takeover, and how long until all were running. */
  startedAt: number | null;
  lastStartMs: number | null;
}

const REFUSAL_EVERY_MS = 10_000;
const now = () => performance.now();

/**
 * Failover on this node: one GroupMember per group this node votes in, one UDP socket for the
 * heartbeats of all of them (authenticated with the cluster's peer key), and the effects of the
 * failover table: the virtual IPs, gratuitous ARP, starting and stopping the group's services.
 */
export class Failover implements FailoverView {
  private socket: dgram.Socket | null = null;
  private port = 0;
  private key: Buffer | null = null;
  private readonly groups = new Map<string, RunningGroup>();
  private readonly listeners = new Set<(e: TakeoverEvent) => void>();
  private readonly lastRefusal = new Map<string, number>();
  /** The VIPs this node may add (every VIP of its groups), on disk, for the keeper to remove should this agent die holding them. */
  private readonly held: HeldVips;
  /** The services of the groups this node is a member of, on disk, for the keeper to stop should this agent die. */
  private readonly heldServices: HeldServices;
  private readonly serviceReady = new Map<string, boolean>();
  private drained = false;
  private config: ArmoryConfig | null = null;

  constructor(readonly host: FailoverHost) {
    this.held = new HeldVips(path.join(host.stateDir, 'held-vips.json'));
    this.heldServices = new HeldServices(path.join(host.stateDir, 'held-services.json'));
  }

  /** The services that failover starts and stops on this node (the agent must not autostart them). */
  controls(service: string): boolean {
    for (const g of this.groups.values()) if (g.config.services.includes(service)) return true;
    return false;
  }

  /** Services of groups this node is a member of, in a configuration. */
  static servicesOf(config: ArmoryConfig, node: string): string[] {
    return Object.values(config.groups)
      .filter((g) => g.members.some((m) => m.node === node))
      .flatMap((g) => g.services);
  }

  /** Applies a configuration and the cluster peer key; groups whose definition is unchanged keep running. */
  async configure(config: ArmoryConfig, key: Buffer | null): Promise<void> {
    this.config = config;
    const keyChanged = key !== null && (this.key === null || !key.equals(this.key));
    this.key = key;
    const self = config.nodes[this.host.node];
    const wanted = new Map<string, GroupConfig>();
    if (self && key) {
      for (const [name, g] of Object.entries(config.groups)) {
        const voters = [...g.members.map((m) => m.node), ...(g.witness ? [g.witness] : [])];
        if (voters.includes(this.host.node)) wanted.set(name, g);
      }
    }
    for (const [name, g] of this.groups) {
      const next = wanted.get(name);
      if (!next || this.signature(name, next, config) !== g.signature || keyChanged) await this.removeGroup(g);
    }
    if (wanted.size === 0) {
      this.closeSocket();
      return;
    }
    await this.openSocket(self?.agentPort ?? 7443);
    for (const [name, g] of wanted) if (!this.groups.has(name)) await this.addGroup(name, g, config);
    // How each service stops may have changed without changing its group.
    for (const g of this.groups.values()) if (g.config.members.some((m) => m.node === this.host.node)) await this.holdServices(g.name, g.config, config);
  }

  /** Records the group's services (and how they stop) as ones the keeper stops should this agent die. */
  private async holdServices(name: string, g: GroupConfig, config: ArmoryConfig): Promise<void> {
    await this.heldServices.hold(
      name,
      g.services.map((s) => ({ service: s, signal: config.services[s]?.stop.signal ?? 'SIGTERM', graceMs: config.services[s]?.stop.grace ?? 10_000 })),
    );
  }

  private signature(name: string, g: GroupConfig, config: ArmoryConfig): string {
    const voters = [...g.members.map((m) => m.node), ...(g.witness ? [g.witness] : [])];
    return JSON.stringify([name, g, voters.map((v) => config.nodes[v]), g.services.map((s) => config.services[s]?.vip ?? null)]);
  }

  private async openSocket(port: number): Promise<void> {
    if (this.socket && this.port === port) return;
    this.closeSocket();
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    socket.on('error', (e) => this.host.journal({ kind: 'failover', reason: `peer heartbeat socket error: ${e.message}`, detail: { code: 'PEER_E_SOCKET' } }));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (e) => reject(new ArmoryError('PEER_E_SOCKET', `cannot listen for peer heartbeats on UDP port ${port}: ${e.message}`)));
      socket.bind(port, '0.0.0.0', () => resolve());
    });
    this.socket = socket;
    this.port = port;
  }

  private closeSocket(): void {
    this.socket?.close();
    this.socket = null;
  }

  private async addGroup(name: string, g: GroupConfig, config: ArmoryConfig): Promise<void> {
    const deadlines = groupDeadlines(g.heartbeat, g.failAfter);
    const voters = [...new Set([...g.members.map((m) => m.node), ...(g.witness ? [g.witness] : [])])].sort();
    const members = Object.fromEntries(g.members.map((m) => [m.node, m.priority]));
    const addresses = new Map<string, { host: string; port: number }>();
    for (const v of voters) {
      const n = config.nodes[v];
      if (n) addresses.set(v, { host: n.address, port: n.agentPort });
    }
    const vips: VirtualIp[] = [];
    for (const s of g.services) {
      const vip = config.services[s]?.vip;
      if (!vip || !Object.hasOwn(members, this.host.node)) continue;
      const iface = typeof vip.interface === 'string' ? vip.interface : vip.interface[this.host.node];
      if (iface) vips.push(new VirtualIp(vip.address, iface));
    }
    // A node starts every group in standby: whatever an earlier run left behind goes first.
    for (const v of vips) await v.remove().catch((e: unknown) => this.host.journal({ kind: 'failover', reason: `cannot clear ${v.address}: ${(e as Error).message}`, detail: { group: name } }));
    // Recorded as addresses this node may add while it is a member, so that the takeover path
    // has no disk write of its own before `ip addr add`.
    await this.held.hold(vips);
    if (Object.hasOwn(members, this.host.node)) {
      await this.holdServices(name, g, config);
      for (const s of g.services) this.host.stopService(s, `standby in group ${name}`);
    }
    const file = GroupStateFile.for(this.host.stateDir, name);
    const stored = await file.open();
    const member: GroupMember = new GroupMember({
      group: name,
      self: this.host.node,
      rules: { voters, members, failback: g.failback, failbackAfterMs: g.failbackAfter, failAfterMs: deadlines.failAfterMs, leaseMs: deadlines.leaseMs },
      deadlines,
      stored,
      now,
      send: (to, hb) => this.send(name, to, hb),
      persist: (state) => file.write(state),
      perform: (effect) => this.perform(name, effect),
      journal: (t) =>
        this.host.journal({ kind: 'failover', from: t.from, to: t.to, reason: `group ${name}: ${t.reason}`, detail: { group: name, epoch: t.epoch, services: g.services } }),
      refused: (e) => this.refused(name, e),
      laggingChanged: (w) =>
        this.host.journal({
          kind: 'failover',
          reason: `group ${name}: ${w.nodes.length ? `the copy of the mirrored data on ${w.nodes.join(', ')} lags (said by ${w.by} at epoch ${w.epoch}); a member with a full copy is preferred for takeover` : `no member's copy of the mirrored data lags (said by ${w.by} at epoch ${w.epoch})`}`,
          detail: { group: name, lagging: w.nodes, by: w.by, epoch: w.epoch },
        }),
    });
    const running: RunningGroup = {
      name,
      signature: this.signature(name, g, config),
      config: g,
      member,
      vips,
      addresses,
      lastBroadcast: 0,
      holdOff: null,
      startedAt: null,
      lastStartMs: null,
      timer: setInterval(() => {
        const t = now();
        if (running.holdOff && (t >= running.holdOff.until || member.activeNode()?.node === running.holdOff.target)) {
          running.holdOff = null;
          member.setReady(this.groupReady(running));
        }
        if (this.host.lagging && member.heldEpoch > 0) member.setLagging(this.host.lagging(g.services));
        member.tick(t);
        if (t - running.lastBroadcast >= deadlines.heartbeatMs - deadlines.tickMs / 2) {
          running.lastBroadcast = t;
          member.broadcast();
        }
      }, deadlines.tickMs),
    };
    this.groups.set(name, running);
    member.setReady(this.groupReady(running));
    this.host.journal({ kind: 'failover', reason: `group ${name}: joined as ${Object.hasOwn(members, this.host.node) ? 'member' : 'witness'} (incarnation ${stored.inc}, epoch ${stored.epoch}; heartbeat ${deadlines.heartbeatMs} ms, takeover after ${deadlines.failAfterMs} ms, lease ${deadlines.leaseMs} ms)`, detail: { group: name } });
  }

  private async removeGroup(g: RunningGroup): Promise<void> {
    clearInterval(g.timer);
    g.member.dispose();
    this.groups.delete(g.name);
    if (g.member.heldEpoch > 0) {
      for (const v of g.vips) await v.remove().catch(() => undefined);
    }
    await this.held.release(g.vips).catch(() => undefined);
    await this.heldServices.keep(new Set(this.groups.keys())).catch(() => undefined);
  }

  private send(group: string, to: string, hb: Parameters<typeof encodeHeartbeat>[0]): void {
    const g = this.groups.get(group);
    const addr = g?.addresses.get(to);
    if (!this.socket || !this.key || !addr) return;
    this.socket.send(encodeHeartbeat(hb, this.key), addr.port, addr.host, () => undefined);
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this.key) return;
    const d = decodeHeartbeat(msg, this.key);
    if (!d.ok) return this.refused(null, d.error, rinfo.address);
    const g = this.groups.get(d.heartbeat.group);
    if (!g) return this.refused(null, new ArmoryError('PEER_E_UNKNOWN_SENDER', `heartbeat for group ${d.heartbeat.group}, which this node is no voter of`), rinfo.address);
    const expected = g.addresses.get(d.heartbeat.from);
    if (expected && /^\d+\.\d+\.\d+\.\d+$/.test(expected.host) && expected.host !== rinfo.address) {
      return this.refused(g.name, new ArmoryError('PEER_E_UNKNOWN_SENDER', `heartbeat of ${d.heartbeat.from} came from ${rinfo.address}, not ${expected.host}`));
    }
    g.member.receive(d.heartbeat, now());
  }

  /** A refused datagram becomes an event, at most one per kind and sender every 10 s. */
  private refused(group: string | null, e: ArmoryError, from?: string): void {
    const key = `${group ?? '-'}|${e.code}|${from ?? String(e.context.node ?? '')}`;
    const t = Date.now();
    if (t - (this.lastRefusal.get(key) ?? 0) < REFUSAL_EVERY_MS) return;
    if (this.lastRefusal.size > 1000) this.lastRefusal.clear();
    this.lastRefusal.set(key, t);
    this.host.journal({ kind: 'failover', reason: `peer heartbeat refused${group ? ` (group ${group})` : ''}: ${e.message}`, detail: { code: e.code, ...(from ? { from } : {}) } });
  }

  private async perform(group: string, effect: OutsideEffect): Promise<void> {
    const g = this.groups.get(group);
    if (!g) return;
    switch (effect.kind) {
      case 'add-vip':
        await this.held.hold(g.vips);
        for (const v of g.vips) await v.add();
        return;
      case 'arp':
        // Not awaited: the announcements leave while the services start.
        for (const v of g.vips) void v.announce().catch((e: unknown) => this.host.journal({ kind: 'failover', reason: (e as Error).message, detail: { group } }));
        return;
      case 'remove-vip':
        // Removed, but still recorded: this node may add them again while it is a member.
        for (const v of g.vips) await v.remove();
        return;
      case 'start-services':
        g.startedAt = now();
        for (const s of g.config.services) this.host.startService(s, `group ${group} active here (epoch ${g.member.heldEpoch})`);
        return;
      case 'stop-services':
        for (const s of g.config.services) this.host.stopService(s, `group ${group} stepped down here`);
        return;
      case 'report-takeover': {
        const e: TakeoverEvent = { group, services: g.config.services, epoch: effect.epoch };
        for (const l of this.listeners) l(e);
        return;
      }
    }
  }

  private groupReady(g: RunningGroup): boolean {
    if (this.drained) return false;
    if (g.holdOff && g.holdOff.target !== this.host.node) return false;
    return g.config.services.every((s) => this.serviceReady.get(s) !== false);
  }

  /**
   * A service's supervisor state changed: a failed or escalated service makes this node unfit for
   * its group until the service runs here again (a manual start) or the failure is cleared.
   */
  serviceChanged(service: string, state: string): void {
    const fit = state === 'failed' || state === 'escalated' ? false : state === 'running' ? true : undefined;
    for (const g of this.groups.values()) {
      if (g.startedAt === null || !g.config.services.includes(service) || state !== 'running') continue;
      if (g.config.services.every((s) => s === service || this.serviceReady.get(s) !== false)) {
        g.lastStartMs = Math.round(now() - g.startedAt);
        g.startedAt = null;
      }
    }
    if (fit === undefined || this.serviceReady.get(service) === fit) return;
    this.serviceReady.set(service, fit);
    for (const g of this.groups.values()) if (g.config.services.includes(service)) g.member.setReady(this.groupReady(g));
  }

  /** Drains this node (it steps down from every group and stands for none) or makes it available again. */
  drain(on: boolean): void {
    this.drained = on;
    if (!on) for (const s of this.serviceReady.keys()) this.serviceReady.delete(s);
    for (const g of this.groups.values()) g.member.setReady(this.groupReady(g));
    this.host.journal({ kind: 'failover', reason: on ? 'node drained: stepping down from every group' : 'node available for failover again' });
  }

  /**
   * A manual move of a service's group to `target`: every other member holds off (is not ready)
   * until the target is active or `ms` have passed; the target forgets an earlier failure.
   */
  move(service: string, target: string, ms: number): void {
    const g = this.groupOf(service);
    if (!g) throw new ArmoryError('FAILOVER_E_UNKNOWN', `service "${service}" is in no failover group of this node`, { service });
    if (!g.config.members.some((m) => m.node === target)) throw new ArmoryError('FAILOVER_E_UNKNOWN', `${target} is no member of group ${g.name}`, { service, node: target });
    if (target === this.host.node) for (const s of g.config.services) this.serviceReady.delete(s);
    g.holdOff = { target, until: now() + ms };
    g.member.setReady(this.groupReady(g));
    this.host.journal({ kind: 'failover', reason: `group ${g.name}: moving to ${target} on request`, detail: { group: g.name, target } });
  }

  /** Makes this node fit for a service's group again (after its budget was spent here). */
  clearFailure(service: string): void {
    this.serviceReady.delete(service);
    for (const g of this.groups.values()) if (g.config.services.includes(service)) g.member.setReady(this.groupReady(g));
  }

  status(): GroupStatus[] {
    return [...this.groups.values()].map((g) => {
      const d = groupDeadlines(g.config.heartbeat, g.config.failAfter);
      const active = g.member.activeNode();
      return {
        group: g.name,
        node: this.host.node,
        state: g.member.current,
        epoch: g.member.epoch,
        activeNode: active?.node ?? null,
        activeEpoch: active?.epoch ?? null,
        ready: this.groupReady(g) && !g.member.isRecovering,
        drained: this.drained,
        services: [...g.config.services],
        peers: g.member.health(),
        heartbeatMs: d.heartbeatMs,
        failAfterMs: d.failAfterMs,
        leaseMs: d.leaseMs,
        lastStartMs: g.lastStartMs,
        lagging: [...g.member.lagging],
        reason: g.member.assessment?.reason ?? '',
      };
    });
  }

  private groupOf(service: string): RunningGroup | undefined {
    for (const g of this.groups.values()) if (g.config.services.includes(service)) return g;
    return undefined;
  }

  /** True when the service's group has heard no heartbeat from `node` for its failure timeout (false when `node` is no voter of it). */
  peerSilent(service: string, node: string): boolean {
    const h = this.groupOf(service)?.member.health().find((x) => x.node === node);
    return h !== undefined && !h.fresh;
  }

  epochOf(service: string): number | null {
    return this.groupOf(service)?.member.epoch ?? null;
  }

  activeNodeOf(service: string): string | null {
    return this.groupOf(service)?.member.activeNode()?.node ?? null;
  }

  isActiveHere(service: string): boolean {
    const s = this.groupOf(service)?.member.current;
    return s === 'active' || s === 'taking-over';
  }

  onTakeover(listener: (e: TakeoverEvent) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Shutdown of the agent (every service stops): stops taking part and removes the virtual IPs it holds. */
  async release(): Promise<void> {
    for (const g of [...this.groups.values()]) await this.removeGroup(g);
    this.closeSocket();
  }

  /** Stops taking part (agent exit): nothing is released, so that a restarted agent finds the truth. */
  close(): void {
    for (const g of this.groups.values()) {
      clearInterval(g.timer);
      g.member.dispose();
    }
    this.groups.clear();
    this.closeSocket();
    void this.config;
  }
}
