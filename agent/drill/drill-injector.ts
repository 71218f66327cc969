import { lookup } from 'node:dns/promises';
import os from 'node:os';
import type { ArmoryConfig } from '../../common/config/document.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { DrillInjectParams, DrillInjectResult } from '../../common/wire/drill.js';
import type { AgentEventInput } from '../../common/wire/service-status.js';
import type { ControlHandlers } from '../api/control-server.js';
import { runCommand } from '../os/run-command.js';
import { signalGroup } from '../supervisor/proc.js';
import { readProcStat } from '../../common/node/proc-stat.js';
import { DrillLeftovers, drillLeftoversFile } from './drill-leftovers.js';
import { armRestorer, checkInterfaceName, ipOrThrow, linkCommands, partitionRules, readAddressesToRestore, readRoutesToRestore, type IpArgs, type UndoStep } from './net-faults.js';

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
 * A network fault is made this long after the agent answered drill.inject: cutting the manager off
 * (its interface down, a partition from it) must not swallow the answer.
 */
const APPLY_DELAY_MS = 50;
/** An undo that could not finish is tried again this often, this many times (then at the next agent start). */
const RETRY_EVERY_MS = 5000;
const RETRIES = 12;
/** The most routes and addresses of an interface a link-down records to restore (the record holds 1024 steps). */
const MAX_ROUTES = 1000;

/**
 * The agent's side of a failover drill: injects a fault on this node for a service it runs, and
 * undoes it when the duration is over — kill (SIGKILL to the program's group), hang (SIGSTOP;
 * SIGCONT at the end if the group is still stopped), agent-kill (the agent dies after answering),
 * link-down and partition (iproute2, made just after answering; one at a time). The undo of hangs
 * and network faults is recorded durably before the fault (DrillLeftovers), network faults also
 * get a detached restorer as a backstop.
 */
export class DrillInjector {
  private readonly leftovers: DrillLeftovers;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  /** The drill whose network fault is in effect or being made (one at a time). */
  private netFault: string | null = null;
  /** Until when the detached restorer of the last network fault may still act (it would undo a new fault's rules). */
  private restorerArmed = { drill: '', until: 0 };

  constructor(private readonly deps: DrillInjectorDeps) {
    this.leftovers = new DrillLeftovers(drillLeftoversFile(deps.stateDir), {
      onRecovered: (reason) => deps.journal({ kind: 'drill', reason: `the record of what drills left to undo was damaged: ${reason}` }),
    });
  }

  /** At agent start: undoes the faults a dead agent left behind (what fails is retried by a timer). */
  async undoLeftovers(): Promise<void> {
    const left = await this.leftovers.entries();
    if (left.length === 0) return;
    const r = await this.leftovers.undoAll();
    this.deps.journal({ kind: 'drill', reason: `undid what an earlier drill left behind: ${r.said.join('; ')}`, detail: { undone: r.said } });
    for (const e of await this.leftovers.entries()) this.retryUndo(e.drill, RETRIES);
  }

  handlers(): Pick<ControlHandlers, 'drill.inject'> {
    return { 'drill.inject': (p) => this.inject(p) };
  }

  /** The agent ends: stops the timers, and undoes what drills still hold (stopped groups resume, network faults end). */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const r = await this.leftovers.undoAll().catch((e: unknown) => ({ said: [`failed: ${(e as Error).message}`], done: false }));
    if (r.said.length > 0) this.deps.journal({ kind: 'drill', reason: `the agent ends: undid what drills still held: ${r.said.join('; ')}`, detail: { undone: r.said } });
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

  /** Undoes a drill's leftovers now; what is not done is tried again later (`tries` more times). */
  private async undoNow(drill: string, note: (r: string, d?: Record<string, unknown>) => void, tries = RETRIES): Promise<void> {
    const r = await this.leftovers.undo(drill);
    if (r.said.length > 0) note(`${r.done ? 'undone' : 'not all undone'}: ${r.said.join('; ')}`, { undone: r.said });
    if (r.done) {
      if (this.netFault === drill) this.netFault = null;
    } else this.retryUndo(drill, tries);
  }

  private retryUndo(drill: string, tries: number): void {
    if (tries <= 0) {
      if (this.netFault === drill) this.netFault = null;
      return;
    }
    const note = (reason: string, detail: Record<string, unknown> = {}) => this.deps.journal({ kind: 'drill', reason: `drill ${drill}: ${reason}`, detail: { drill, ...detail } });
    this.later(RETRY_EVERY_MS, () => this.undoNow(drill, note, tries - 1));
  }

  async inject(p: DrillInjectParams): Promise<DrillInjectResult> {
    const config = this.deps.config();
    if (!config || !Object.hasOwn(config.services, p.service)) throw new ArmoryError('DRILL_E_UNKNOWN_SERVICE', `this node's configuration has no service "${p.service}"`, { service: p.service });
    const pgrp = this.deps.processGroup(p.service);
    if (pgrp === null) throw new ArmoryError('DRILL_E_NOT_RUNNING', `${p.service} does not run on ${this.deps.node}`, { service: p.service });
    const gone = () => new ArmoryError('DRILL_E_NOT_RUNNING', `${p.service}'s process group ${pgrp} is gone on ${this.deps.node}`, { service: p.service });
    const note = (reason: string, detail: Record<string, unknown> = {}) =>
      this.deps.journal({ kind: 'drill', service: p.service, reason: `drill ${p.drill}: ${reason}`, detail: { drill: p.drill, fault: p.fault, ...detail } });
    switch (p.fault) {
      case 'kill': {
        const t = at();
        if (!signalGroup(pgrp, 'SIGKILL')) throw gone();
        note(`SIGKILL to the process group ${pgrp}`, { pgrp });
        return { message: `${p.service}: process group ${pgrp} killed`, at: t, pgrp, undo: [] };
      }
      case 'hang': {
        const leader = readProcStat(pgrp);
        if (!leader) throw gone();
        // Recorded first: an agent that dies meanwhile resumes the group at its next start.
        await this.leftovers.recordHang(p.drill, pgrp, leader.startTicks);
        const t = at();
        if (!signalGroup(pgrp, 'SIGSTOP')) {
          await this.leftovers.undo(p.drill);
          throw gone();
        }
        note(`SIGSTOP to the process group ${pgrp} for ${p.durationMs} ms`, { pgrp });
        // Still stopped at the end (liveness did not restart it, or cannot): it goes on.
        this.later(p.durationMs, () => this.undoNow(p.drill, note));
        return { message: `${p.service}: process group ${pgrp} stopped`, at: t, pgrp, undo: [`SIGCONT to ${pgrp} if still stopped after ${p.durationMs} ms`] };
      }
      case 'agent-kill': {
        note('the agent kills itself (SIGKILL) after answering');
        const t = at();
        setTimeout(() => (this.deps.killSelf ?? (() => process.kill(process.pid, 'SIGKILL')))(), 100);
        return { message: `the agent of ${this.deps.node} (pid ${process.pid}) dies now; its keeper restarts it`, at: t, pgrp: null, undo: [] };
      }
      case 'link-down':
      case 'partition':
        return this.netFaultOnce(p, config, note);
    }
  }

  /** link-down or partition, refused while another network fault of a drill is in effect here. */
  private async netFaultOnce(p: DrillInjectParams, config: ArmoryConfig, note: (r: string, d?: Record<string, unknown>) => void): Promise<DrillInjectResult> {
    const busy = (what: string) => new ArmoryError('DRILL_E_BUSY', `${what} on ${this.deps.node}`, { service: p.service });
    // Checked and taken in one step (no await between): two injects never both pass.
    if (this.netFault !== null) throw busy(`the network fault of drill ${this.netFault} is still in effect`);
    if (Date.now() < this.restorerArmed.until) throw busy(`the restorer of drill ${this.restorerArmed.drill} acts until ${new Date(this.restorerArmed.until).toISOString()}`);
    this.netFault = p.drill;
    try {
      const pending = (await this.leftovers.entries()).find((e) => e.kind === 'net' && e.drill !== p.drill);
      if (pending) throw busy(`the network fault of drill ${pending.drill} is not undone yet`);
      if (p.fault === 'link-down') {
        const iface = checkInterfaceName(await this.interfaceOf(config, p.service));
        const { down, up } = linkCommands(iface);
        // Setting a link down flushes every route through it and its static IPv6 addresses; up
        // brings back only the kernel's own. Addresses go back before the routes that use them
        // (VIPs are IPv4: they stay with failover).
        const addresses = await readAddressesToRestore(iface);
        const routes = await readRoutesToRestore(iface);
        if (addresses.length + routes.length > MAX_ROUTES) {
          throw new ArmoryError('DRILL_E_INJECT', `${iface} carries ${routes.length} routes and ${addresses.length} IPv6 addresses of its own; a link-down drill restores at most ${MAX_ROUTES}`, { service: p.service });
        }
        return await this.timedNetFault(p, [down], [{ ip: up }, ...[...addresses, ...routes].map((r) => ({ ip: r }))], `interface ${iface} down for ${p.durationMs} ms`, note);
      }
      const peers = await this.peerAddresses(config, p.service);
      const rules = partitionRules(peers);
      return await this.timedNetFault(p, rules.add, rules.del, `cut off from the group peers ${peers.join(', ')} for ${p.durationMs} ms`, note);
    } catch (e) {
      if (this.netFault === p.drill) this.netFault = null;
      throw e;
    }
  }

  /**
   * A network fault: its undo recorded durably and armed (the detached restorer), the answer given,
   * then made (APPLY_DELAY_MS later) and undone by the agent's timer at the end of the duration. A
   * fault that cannot be made is journaled and undone.
   */
  private async timedNetFault(p: { drill: string; durationMs: number }, make: IpArgs[], undo: UndoStep[], what: string, note: (r: string, d?: Record<string, unknown>) => void): Promise<DrillInjectResult> {
    await this.leftovers.recordNet(p.drill, undo);
    armRestorer(APPLY_DELAY_MS + p.durationMs + RESTORER_LAG_MS, undo);
    this.restorerArmed = { drill: p.drill, until: Date.now() + APPLY_DELAY_MS + p.durationMs + RESTORER_LAG_MS + 500 };
    const t = new Date(Date.now() + APPLY_DELAY_MS).toISOString();
    this.later(APPLY_DELAY_MS, async () => {
      note(what, { commands: make.map((a) => `ip ${a.join(' ')}`) });
      try {
        for (const a of make) await ipOrThrow(a);
      } catch (e) {
        note(`the fault could not be made (${(e as Error).message}); undoing what was made`, { error: (e as ArmoryError).code ?? 'DRILL_E_INJECT' });
        await this.undoNow(p.drill, note);
        return;
      }
      this.later(p.durationMs, () => this.undoNow(p.drill, note));
    });
    return { message: what, at: t, pgrp: null, undo: undo.map((s) => `ip ${s.ip.join(' ')}`) };
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
    const own = ownAddresses();
    const out: string[] = [];
    for (const n of peers) {
      const address = config.nodes[n]?.address;
      if (!address) throw new ArmoryError('DRILL_E_INJECT', `the configuration gives no address for the peer ${n}`, { service });
      let resolved = address;
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) {
        try {
          resolved = (await lookup(address, { family: 4 })).address;
        } catch (e) {
          throw new ArmoryError('DRILL_E_INJECT', `cannot resolve the address ${address} of the peer ${n}: ${(e as Error).message}`, { service, node: n });
        }
      }
      // Cutting off loopback or this node's own address would cut the node off from itself.
      if (/^127\./.test(resolved) || resolved === '0.0.0.0' || own.has(resolved)) {
        throw new ArmoryError('DRILL_E_INJECT', `the peer ${n} is at ${resolved}, ${own.has(resolved) ? "one of this node's own addresses" : 'a loopback address'}: a partition from it would cut ${this.deps.node} off from itself`, { service, node: n });
      }
      out.push(resolved);
    }
    if (out.length === 0) throw new ArmoryError('DRILL_E_INJECT', `${service}'s group has no other voter than ${this.deps.node}`, { service });
    return out;
  }
}

const at = () => new Date().toISOString();

/** This node's IPv4 addresses (in its network namespace). */
function ownAddresses(): Set<string> {
  return new Set(Object.values(os.networkInterfaces()).flatMap((l) => (l ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address)));
}

/** The interface that carries an IPv4 address (from `ip -o -4 addr show`), or null. */
async function interfaceWithAddress(address: string): Promise<string | null> {
  const r = await runCommand('ip', ['-o', '-4', 'addr', 'show']);
  if (r.code !== 0) return null;
  const line = r.stdout.split('\n').find((l) => l.includes(` ${address}/`));
  return line?.split(/\s+/)[1]?.replace(/@.*$/, '') ?? null;
}

