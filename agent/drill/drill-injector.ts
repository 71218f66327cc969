import { execFile } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import type { ArmoryConfig } from '../../common/config/document.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { DrillInjectParams, DrillInjectResult } from '../../common/wire/drill.js';
import type { AgentEventInput } from '../../common/wire/service-status.js';
import type { ControlHandlers } from '../api/control-server.js';
import { readProcStat, signalGroup } from '../supervisor/proc.js';
import { DrillLeftovers, drillLeftoversFile } from './drill-leftovers.js';
import { armRestorer, ipOrThrow, linkCommands, partitionRules, type IpArgs } from './net-faults.js';

export interface DrillInjectorDeps {
  node: string;
  stateDir: string;
  config(): ArmoryConfig | null;
  /** The process group of the service's program on this node, null when it does not run here. */
  processGroup(service: string): number | null;
  journal(e: AgentEventInput): void;
  /** agent-kill: how the agent dies (SIGKILL to itself; tests may replace it). */
  killSelf?: () => void;
}

/** How much later than the agent's own undo the detached restorer acts (it is the backstop). */
const RESTORER_LAG_MS = 1000;

/**
 * The agent's side of a failover drill: injects a fault on this node for a service it runs, and
 * undoes it when the duration is over — kill (SIGKILL to the program's group), hang (SIGSTOP;
 * SIGCONT at the end if the group is still stopped), agent-kill (the agent dies after answering),
 * link-down and partition (iproute2; recorded durably, with a detached restorer as a backstop).
 */
export class DrillInjector {
  private readonly leftovers: DrillLeftovers;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly deps: DrillInjectorDeps) {
    this.leftovers = new DrillLeftovers(drillLeftoversFile(deps.stateDir));
  }

  /** At agent start: undoes the network faults a dead agent left behind. */
  async undoLeftovers(): Promise<void> {
    if (this.leftovers.entries.length === 0) return;
    const said = await this.leftovers.undoAll();
    this.deps.journal({ kind: 'drill', reason: `undid what an earlier drill left behind: ${said.join('; ')}`, detail: { undone: said } });
  }

  handlers(): Pick<ControlHandlers, 'drill.inject'> {
    return { 'drill.inject': (p) => this.inject(p) };
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private later(ms: number, fn: () => Promise<void> | void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void Promise.resolve()
        .then(fn)
        .catch((e: unknown) => this.deps.journal({ kind: 'drill', reason: `drill undo failed: ${(e as Error).message}` }));
    }, ms);
    this.timers.add(t);
  }

  async inject(p: DrillInjectParams): Promise<DrillInjectResult> {
    const config = this.deps.config();
    if (!config || !Object.hasOwn(config.services, p.service)) throw new ArmoryError('DRILL_E_UNKNOWN_SERVICE', `this node's configuration has no service "${p.service}"`, { service: p.service });
    const pgrp = this.deps.processGroup(p.service);
    if (pgrp === null) throw new ArmoryError('DRILL_E_NOT_RUNNING', `${p.service} does not run on ${this.deps.node}`, { service: p.service });
    const note = (reason: string, detail: Record<string, unknown> = {}) =>
      this.deps.journal({ kind: 'drill', service: p.service, reason: `drill ${p.drill}: ${reason}`, detail: { drill: p.drill, fault: p.fault, ...detail } });
    switch (p.fault) {
      case 'kill': {
        note(`SIGKILL to the process group ${pgrp}`, { pgrp });
        const t = at();
        signalGroup(pgrp, 'SIGKILL');
        return { message: `${p.service}: process group ${pgrp} killed`, at: t, pgrp, undo: [] };
      }
      case 'hang': {
        note(`SIGSTOP to the process group ${pgrp} for ${p.durationMs} ms`, { pgrp });
        const t = at();
        signalGroup(pgrp, 'SIGSTOP');
        this.later(p.durationMs, () => {
          // Still stopped (liveness did not restart it, or cannot): let it go on.
          if (readProcStat(pgrp)?.state === 'T' && signalGroup(pgrp, 'SIGCONT')) note(`SIGCONT to the process group ${pgrp}: the duration is over`, { pgrp });
        });
        return { message: `${p.service}: process group ${pgrp} stopped`, at: t, pgrp, undo: [`SIGCONT to ${pgrp} if still stopped after ${p.durationMs} ms`] };
      }
      case 'agent-kill': {
        note('the agent kills itself (SIGKILL) after answering');
        const t = at();
        setTimeout(() => (this.deps.killSelf ?? (() => process.kill(process.pid, 'SIGKILL')))(), 100);
        return { message: `the agent of ${this.deps.node} (pid ${process.pid}) dies now; its keeper restarts it`, at: t, pgrp: null, undo: [] };
      }
      case 'link-down': {
        const iface = await this.interfaceOf(config, p.service);
        const { down, up } = linkCommands(iface);
        return this.timedNetFault(p, [down], [up], `interface ${iface} down for ${p.durationMs} ms`, note);
      }
      case 'partition': {
        const peers = await this.peerAddresses(config, p.service);
        const rules = partitionRules(peers);
        return this.timedNetFault(p, rules.add, rules.del, `cut off from the group peers ${peers.join(', ')} for ${p.durationMs} ms`, note);
      }
    }
  }

  /** A network fault: its undo recorded durably and armed twice (the agent's timer, a detached restorer), then made. */
  private async timedNetFault(p: { drill: string; durationMs: number }, make: IpArgs[], undo: IpArgs[], what: string, note: (r: string, d?: Record<string, unknown>) => void): Promise<DrillInjectResult> {
    await this.leftovers.record(p.drill, undo);
    armRestorer(p.durationMs + RESTORER_LAG_MS, undo);
    this.later(p.durationMs, async () => note(`undone: ${(await this.leftovers.undo(p.drill)).join('; ')}`));
    note(what, { commands: make.map((a) => `ip ${a.join(' ')}`) });
    const t = at();
    try {
      for (const a of make) await ipOrThrow(a);
    } catch (e) {
      await this.leftovers.undo(p.drill);
      throw e;
    }
    return { message: what, at: t, pgrp: null, undo: undo.map((a) => `ip ${a.join(' ')}`) };
  }

  /** The interface the service is reached on here: its VIP's, else the one holding this node's address. */
  private async interfaceOf(config: ArmoryConfig, service: string): Promise<string> {
    const vip = config.services[service]?.vip;
    if (vip) {
      const iface = typeof vip.interface === 'string' ? vip.interface : vip.interface[this.deps.node];
      if (iface) return iface;
    }
    const address = config.nodes[this.deps.node]?.address;
    const found = address ? await interfaceWithAddress(address) : null;
    if (!found || found === 'lo') {
      throw new ArmoryError('DRILL_E_INJECT', `${service} has no network interface of its own on ${this.deps.node} (no VIP, and the node's address ${address ?? '(none)'} is ${found === 'lo' ? 'on loopback' : 'on no interface'})`, { service });
    }
    return found;
  }

  /** The addresses of the other voters of the service's group (members and witness). */
  private async peerAddresses(config: ArmoryConfig, service: string): Promise<string[]> {
    const group = Object.values(config.groups).find((g) => g.services.includes(service));
    if (!group) throw new ArmoryError('DRILL_E_INJECT', `${service} is in no failover group: a partition has no peers to cut off`, { service });
    const peers = [...group.members.map((m) => m.node), ...(group.witness ? [group.witness] : [])].filter((n) => n !== this.deps.node);
    const out: string[] = [];
    for (const n of peers) {
      const address = config.nodes[n]?.address;
      if (!address) throw new ArmoryError('DRILL_E_INJECT', `the configuration gives no address for the peer ${n}`, { service });
      out.push(/^\d{1,3}(\.\d{1,3}){3}$/.test(address) ? address : (await lookup(address, { family: 4 })).address);
    }
    if (out.length === 0) throw new ArmoryError('DRILL_E_INJECT', `${service}'s group has no other voter than ${this.deps.node}`, { service });
    return out;
  }
}

const at = () => new Date().toISOString();

/** The interface that carries an IPv4 address (from `ip -o -4 addr show`), or null. */
function interfaceWithAddress(address: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('ip', ['-o', '-4', 'addr', 'show'], { timeout: 5000 }, (err, stdout) => {
      if (err) return resolve(null);
      const line = String(stdout)
        .split('\n')
        .find((l) => l.includes(` ${address}/`));
      resolve(line?.split(/\s+/)[1]?.replace(/@.*$/, '') ?? null);
    });
  });
}
