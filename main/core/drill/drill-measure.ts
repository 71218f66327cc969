import type { FailoverBudget } from '../../../common/config/failover-budget.js';
import type { DrillEvent, DrillVerdict, ProbeSpan } from '../../../common/wire/drill.js';

/** One probe of the service's address: when it started (ms, manager clock) and whether it connected. */
export interface ProbeSample {
  t: number;
  ok: boolean;
}

/** One event of a node's journal, its time in ms. */
export interface JournalEntry {
  t: number;
  node: string;
  kind: string;
  service?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  reason: string;
  detail?: Record<string, unknown> | undefined;
}

export interface DrillMeasurement {
  detectionMs: number | null;
  recoveryMs: number | null;
  outageMs: number | null;
  failedProbes: number;
  totalProbes: number;
  /** The last probe failed: the service did not answer when the drill ended. */
  downAtEnd: boolean;
  nodeAfter: string | null;
  verdict: DrillVerdict;
  probes: ProbeSpan[];
  events: DrillEvent[];
}

const FAILOVER_MOVES = new Set(['candidate', 'taking-over', 'stepping-down', 'active']);

/** A failure, step-down or takeover seen in a journal: what detection is measured to. */
export function isDetection(e: JournalEntry, service: string, group: string | null): boolean {
  if (e.service === service && e.kind === 'liveness') return true;
  if (e.service === service && e.kind === 'transition' && e.from === 'running') return true;
  return e.kind === 'failover' && group !== null && e.detail?.group === group && e.to !== undefined && FAILOVER_MOVES.has(e.to);
}

/** The service ready again: what recovery is measured to. */
export const isRecovery = (e: JournalEntry, service: string): boolean => e.kind === 'transition' && e.service === service && e.to === 'running';

/** Runs of equal probe outcomes, in ms from the fault. */
export function probeSpans(samples: readonly ProbeSample[], faultAt: number): ProbeSpan[] {
  const spans: ProbeSpan[] = [];
  for (const s of samples) {
    const last = spans.at(-1);
    if (last && last.ok === s.ok) {
      last.toMs = s.t - faultAt;
      last.count += 1;
    } else spans.push({ fromMs: s.t - faultAt, toMs: s.t - faultAt, ok: s.ok, count: 1 });
  }
  return spans;
}

/**
 * The drill's figures from what was seen: detection (fault → first failure event), recovery
 * (fault → service running again on some node), client outage (first failed probe after the
 * fault → first successful probe after the last failure) and the verdict against the budget:
 * within it when both recovery and outage fit, not recovered when the last probe failed.
 */
export function measureDrill(input: { faultAt: number; service: string; group: string | null; nodeBefore: string; budget: FailoverBudget | null; probes: readonly ProbeSample[]; events: readonly JournalEntry[] }): DrillMeasurement {
  const { faultAt, service, group } = input;
  const probes = [...input.probes].sort((a, b) => a.t - b.t);
  const events = [...input.events].sort((a, b) => a.t - b.t);
  const after = events.filter((e) => e.t >= faultAt);
  const detection = after.find((e) => isDetection(e, service, group));
  const recovery = after.find((e) => isRecovery(e, service));
  const post = probes.filter((p) => p.t >= faultAt);
  const failed = post.filter((p) => !p.ok);
  const firstFail = failed[0];
  const lastFail = failed.at(-1);
  const back = lastFail ? post.find((p) => p.ok && p.t > lastFail.t) : undefined;
  const downAtEnd = probes.length > 0 && !(probes.at(-1) as ProbeSample).ok;
  const outageMs = firstFail && back ? back.t - firstFail.t : null;
  const recoveryMs = recovery ? recovery.t - faultAt : null;
  let verdict: DrillVerdict;
  if (downAtEnd) verdict = 'not-recovered';
  else if (input.budget === null) verdict = 'no-budget';
  else verdict = Math.max(recoveryMs ?? 0, outageMs ?? 0) <= input.budget.totalMs ? 'within-budget' : 'over-budget';
  const relevant = (e: JournalEntry) => e.service === service || e.kind === 'drill' || e.kind === 'agent' || (e.kind === 'failover' && (e.detail?.group === group || e.detail?.group === undefined));
  return {
    detectionMs: detection ? detection.t - faultAt : null,
    recoveryMs,
    outageMs,
    failedProbes: failed.length,
    totalProbes: probes.length,
    downAtEnd,
    nodeAfter: recovery?.node ?? (downAtEnd ? null : input.nodeBefore),
    verdict,
    probes: probeSpans(probes, faultAt),
    events: events
      .filter((e) => e.t >= faultAt - 1000 && relevant(e))
      .slice(0, 2000)
      .map((e) => ({
        atMs: e.t - faultAt,
        node: e.node,
        kind: e.kind,
        reason: `${e.from && e.to ? `${e.from} → ${e.to}: ` : ''}${e.reason}`.slice(0, 500),
        role: e === detection ? 'detection' : e === recovery ? 'recovery' : 'other',
      })),
  };
}
