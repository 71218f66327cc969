import fs from 'node:fs';
import path from 'node:path';
import type { ArmoryConfig } from '../../../common/config/document.js';
import { parseConfigText } from '../../../common/config/load.js';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { newRunId } from '../../../common/node/job-results.js';
import { withTimeout } from '../../../common/node/with-timeout.js';
import { drillInjectResultSchema, type DrillFault, type DrillProgress, type DrillReport } from '../../../common/wire/drill.js';
import type { Manager } from '../manager.js';
import { takeDrillLock } from './drill-lock.js';
import { measureDrill, type JournalEntry } from './drill-measure.js';
import { DrillStore } from './drill-store.js';
import { drillTarget, type DrillTarget } from './drill-target.js';
import { AddressProber } from './address-prober.js';

export interface DrillRequest {
  service: string;
  fault: string;
  /** How long a timed fault (hang, link-down, partition) lasts; default 5 s. */
  durationMs?: number;
  force?: boolean;
}

/** Probe timing: every 10 ms; a connect (or GET) that takes longer than 250 ms counts as failed. */
const PROBE_EVERY_MS = 10;
const PROBE_TIMEOUT_MS = 250;
/** Probes that must connect before the fault (the service answered at all). */
const BASELINE_MS = 300;
/** The service must answer every probe this long before the drill ends. */
const SETTLED_MS = 500;
/** How long past the fault (and its duration) the drill waits for recovery at most. */
const RECOVERY_WAIT_MS = 30_000;

const timedFaults: ReadonlySet<DrillFault> = new Set(['hang', 'link-down', 'partition']);
/** How long the node has to confirm the fault; a timed fault unconfirmed by then is measured anyway. */
const INJECT_ANSWER_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Failover drills from the manager: checks the request (drillTarget), probes the service's own
 * address every 10 ms, has the node that runs it inject the fault, follows the nodes' journals
 * until the service is back, measures detection, recovery and the client-observed outage against
 * the group's failover budget, and keeps the report (DrillStore) and an event in the journal.
 */
export class ManagerDrills {
  readonly store: DrillStore;
  /** How long the node has to confirm the fault (tests shorten it). */
  injectAnswerMs = INJECT_ANSWER_MS;

  constructor(private readonly manager: Manager) {
    this.store = new DrillStore(path.join(manager.home.root, 'drills'));
  }

  private config(): ArmoryConfig {
    const v = this.manager.inventory.data.configVersions.at(-1);
    if (!v) throw new ArmoryError('DRILL_E_UNKNOWN_SERVICE', 'no configuration has been applied yet (armory apply FILE)');
    const parsed = parseConfigText(fs.readFileSync(v.file, 'utf8'));
    if (!parsed.ok) throw new ArmoryError('CONFIG_E_INVALID', `the applied configuration v${v.version} no longer validates`);
    return parsed.config;
  }

  /** Where the drill would run, or the coded refusal: for the GUI's confirmation and the CLI. */
  async plan(request: DrillRequest): Promise<DrillTarget> {
    const config = this.config();
    const [groups, nodes] = await Promise.all([this.manager.groups(), this.manager.status()]);
    return drillTarget(config, { service: request.service, fault: request.fault, force: request.force ?? false }, groups, nodes);
  }

  list(limit = 20, service?: string): DrillReport[] {
    return this.store.list(limit, service);
  }

  get(id: string): DrillReport {
    return this.store.get(id);
  }

  async run(request: DrillRequest, onProgress: (p: DrillProgress) => void = () => undefined): Promise<DrillReport> {
    const durationMs = request.durationMs ?? 5000;
    if (!Number.isInteger(durationMs) || durationMs < 100 || durationMs > 120_000) throw new ArmoryError('CLI_E_USAGE', 'the drill duration is 100 ms to 2 min');
    const lock = takeDrillLock(this.store.dir, `${request.service} ${request.fault}`);
    try {
      const target = await this.plan(request);
      return await this.execute(target, { durationMs, forced: request.force ?? false }, onProgress);
    } finally {
      lock.release();
    }
  }

  /** Collections still running (a node cut off answers late): a node is not asked again meanwhile. */
  private readonly collecting = new Map<string, Promise<unknown>>();

  private async collect(nodes: readonly string[], timeoutMs: number): Promise<void> {
    await Promise.all(
      nodes.map((n) => {
        let c = this.collecting.get(n);
        if (!c) {
          c = this.manager.collectEvents(n).catch(() => 0);
          this.collecting.set(n, c);
          const done = c;
          void done.finally(() => this.collecting.get(n) === done && this.collecting.delete(n));
        }
        return withTimeout(c, timeoutMs).catch(() => 0);
      }),
    );
  }

  private journal(since: number, nodes: ReadonlySet<string>): JournalEntry[] {
    return this.manager
      .readEvents({ from: new Date(since).toISOString(), limit: 100_000 })
      .filter((e) => nodes.has(e.node))
      .map((e) => ({ t: Date.parse(e.time), node: e.node, kind: e.kind, service: e.service, from: e.from, to: e.to, reason: e.reason, detail: e.detail }));
  }

  private async execute(target: DrillTarget, o: { durationMs: number; forced: boolean }, onProgress: (p: DrillProgress) => void): Promise<DrillReport> {
    const id = newRunId();
    const startedAt = new Date().toISOString();
    const nodes = Object.keys(this.manager.inventory.data.nodes);
    const nodeSet = new Set(nodes);
    const notes: string[] = [];
    const probeTarget = `${target.probe.http ? 'http://' : ''}${target.probe.host}:${target.probe.port}${target.probe.http ? `${target.probe.http.path} (status ${target.probe.http.status})` : ''}`;
    const prober = new AddressProber(target.probe, PROBE_EVERY_MS, PROBE_TIMEOUT_MS).start();
    let faultAt = Date.now();
    const progress = (phase: DrillProgress['phase'], text: string) => {
      const c = prober.counts();
      onProgress({ service: target.service, fault: target.fault, phase, text, elapsedMs: Date.now() - faultAt, probesOk: c.ok, probesFailed: c.failed });
    };
    try {
      progress('baseline', `probing ${probeTarget} before the fault`);
      // Events so far are gathered first: what comes later is the drill's.
      const [, baselineOk] = await Promise.all([this.collect(nodes, 5000), this.baseline(prober)]);
      if (!baselineOk) throw new ArmoryError('DRILL_E_NO_ADDRESS', `${target.service} does not answer at ${probeTarget}: a drill needs a service that answers before the fault`, { service: target.service });
      const sent = Date.now();
      const client = await this.manager.connect(target.node, 3000);
      let answer: { at: string; message: string } | null = null;
      try {
        answer = drillInjectResultSchema.parse(await withTimeout(client.call('drill.inject', { drill: id, service: target.service, fault: target.fault, durationMs: o.durationMs }), this.injectAnswerMs));
      } catch (e) {
        const refusal = injectRefusal(target, e as ArmoryError);
        if (refusal) throw refusal;
        notes.push(`${target.node} did not confirm the ${target.fault} (${(e as Error).message}): the fault is taken as injected when it was sent, by the manager's clock`);
      } finally {
        client.close();
      }
      const agentAt = answer ? Date.parse(answer.at) : NaN;
      // The agent's clock stamps the fault (its journal uses the same clock); a skew against ours is noted.
      faultAt = Number.isFinite(agentAt) ? agentAt : sent;
      const skew = faultAt - sent;
      if (skew < -50 || skew > Date.now() - sent + 50) notes.push(`the clock of ${target.node} differs from the manager's by about ${Math.round(skew)} ms: event times are the nodes', probe times the manager's`);
      progress('injected', `${target.fault} on ${target.node}: ${answer ? answer.message : 'sent, not confirmed by the node'}`);
      const faultEnds = faultAt + (timedFaults.has(target.fault) ? o.durationMs : 0);
      const deadline = faultEnds + RECOVERY_WAIT_MS;
      let recovered = false;
      // The drill observes until here: the probes after it were still in flight when it was decided.
      let observedUntil = Date.now();
      for (;;) {
        await sleep(200);
        await this.collect(nodes, 1500);
        const now = Date.now();
        const m = measureDrill({ faultAt, service: target.service, group: target.group, nodeBefore: target.node, budget: target.budget, probes: prober.samples.filter((s) => s.t <= now - PROBE_TIMEOUT_MS), events: this.journal(faultAt - 2000, nodeSet) });
        if (m.recoveryMs !== null && !recovered) {
          recovered = true;
          progress('recovered', `${target.service} running again on ${m.nodeAfter ?? '?'} after ${m.recoveryMs} ms`);
        } else progress(recovered ? 'recovered' : 'injected', now < faultEnds ? `fault in force for ${Math.ceil((faultEnds - now) / 1000)} s more` : recovered ? 'waiting for the service to answer steadily' : 'waiting for the service to recover');
        const settled = prober.okFor(SETTLED_MS, now);
        observedUntil = now - PROBE_TIMEOUT_MS;
        if (now >= faultEnds + 500 && now >= faultAt + 1000 && settled && (recovered || now >= faultEnds + 3000)) break;
        if (now >= deadline) {
          notes.push(`the drill stopped waiting ${Math.round((deadline - faultAt) / 1000)} s after the fault`);
          break;
        }
      }
      progress('cleanup', 'gathering the journals of every node');
      const samples = (await prober.stop()).filter((s) => s.t <= observedUntil);
      await this.collect(nodes, 3000);
      const m = measureDrill({ faultAt, service: target.service, group: target.group, nodeBefore: target.node, budget: target.budget, probes: samples, events: this.journal(faultAt - 2000, nodeSet) });
      if (target.budget === null) notes.push(`${target.service} is in no failover group: there is no failover budget to compare with`);
      if (o.forced && target.standbys.length === 0) notes.push('forced: no standby was ready, so the service was down until it recovered where it was');
      const report: DrillReport = {
        id,
        service: target.service,
        group: target.group,
        fault: target.fault,
        forced: o.forced,
        durationMs: o.durationMs,
        startedAt,
        faultAt: new Date(faultAt).toISOString(),
        endedAt: new Date().toISOString(),
        probe: { target: probeTarget, everyMs: PROBE_EVERY_MS },
        nodeBefore: target.node,
        nodeAfter: m.nodeAfter,
        detectionMs: m.detectionMs,
        recoveryMs: m.recoveryMs,
        outageMs: m.outageMs,
        failedProbes: m.failedProbes,
        totalProbes: m.totalProbes,
        budget: target.budget,
        verdict: m.verdict,
        summary: drillSummary(target, m),
        notes,
        probes: m.probes.slice(0, 20_000),
        events: m.events,
      };
      await this.store.save(report);
      this.manager.events.append({ time: new Date().toISOString(), node: 'manager', agentSeq: 0, kind: 'drill', service: target.service, reason: report.summary, detail: { drill: id, fault: target.fault, verdict: report.verdict } });
      await this.manager.events.flush();
      progress('done', report.summary);
      return report;
    } catch (e) {
      await prober.stop();
      progress('failed', (e as Error).message);
      throw e;
    }
  }

  /** Waits until the probe has connected steadily for a while (bounded): the service answers before the fault. */
  private async baseline(prober: AddressProber): Promise<boolean> {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      await sleep(50);
      if (prober.okFor(BASELINE_MS)) return true;
    }
    return false;
  }
}

/**
 * What a failed drill.inject call means: the drill's end (the coded error to throw), or null when
 * the drill goes on unconfirmed. A timed fault (hang, link-down, partition) may cut the very
 * connection it was asked on, or be answered late: it was sent, so the drill measures it. A refusal
 * by the agent, or any failure of a fault that is not timed, ends the drill.
 */
export function injectRefusal(target: Pick<DrillTarget, 'service' | 'fault' | 'node'>, err: ArmoryError): ArmoryError | null {
  if (timedFaults.has(target.fault) && err.code === 'AGENT_E_UNREACHABLE') return null;
  return new ArmoryError(err.code?.startsWith('DRILL_E') ? err.code : 'DRILL_E_INJECT', `${target.node} did not inject ${target.fault}: ${err.message}`, { service: target.service, node: target.node });
}

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);

/** One line: what was done, what it cost, and the verdict. */
export function drillSummary(t: Pick<DrillTarget, 'service' | 'fault' | 'node' | 'budget'>, m: { detectionMs: number | null; recoveryMs: number | null; outageMs: number | null; nodeAfter: string | null; verdict: string }): string {
  const where = m.nodeAfter === null ? 'not recovered' : m.nodeAfter === t.node ? `recovered on ${t.node}` : `moved ${t.node} → ${m.nodeAfter}`;
  const budget = t.budget ? ` (budget ${t.budget.totalMs} ms: ${m.verdict.replace('-', ' ')})` : m.verdict === 'not-recovered' ? '' : ' (no failover budget)';
  return `drill ${t.fault} on ${t.service}: ${where}; detection ${ms(m.detectionMs)}, recovery ${ms(m.recoveryMs)}, client outage ${ms(m.outageMs)}${budget}`;
}
