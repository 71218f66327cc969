import type { ClientOp } from './campaign-client.js';
import type { FaultRecord } from './campaign-bed.js';
import { FAULT_TEXT, type FaultKind } from './fault-plan.js';

/** An event of a member's journal, as the manager collected it. */
export interface JournalEvent {
  node: string;
  time: string;
  kind: string;
  service?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  reason: string;
}

export interface CampaignInput {
  seed: number;
  /** Wall-clock ms: from the first fault's injection (minus a lead-in) to the end. */
  from: number;
  until: number;
  faults: FaultRecord[];
  ops: ClientOp[];
  /** Which hosts held the VIP, sampled (wall-clock ms). */
  vip: { t: number; holders: string[] }[];
  /** Which hosts' redis answered PING, sampled (wall-clock ms). */
  answering: { t: number; answering: string[] }[];
  events: JournalEvent[];
  /** The program's stop grace: how long a keeper may take to stop redis after its agent was killed. */
  stopGraceMs: number;
  /** Every acknowledged write, with the time of its acknowledgement. */
  acked: Map<number, number>;
  /** What the final read-back found (null: missing). */
  readBack: Map<number, string | null>;
  readBackFrom: string;
}

export interface FaultOutcome {
  kind: FaultKind;
  node: string;
  injectAt: string;
  /** Fault → first event about it in a member's journal (null: no event). */
  detectMs: number | null;
  detectedBy: string | null;
  /** Fault → the client's first reply after its last failed command in the fault's window (0: the client saw no failure). */
  recoveryMs: number;
  /** Client time spent in failed commands in the fault's window. */
  outageMs: number;
  failedCommands: number;
  /** What the failed commands got (the client's words, each once, in order): an error reply, a closed connection, a timeout. */
  failedWhy: string[];
  /** The client's longest command in the fault's window, answered or not: what a masked fault still costs it (a slower reply). */
  longestCommandMs: number;
  movedTo: string | null;
  settled: boolean;
  settleMs: number;
  lostWrites: number;
  notes: string[];
}

export interface LostWrite {
  key: number;
  ackedAt: string;
  /** The first move of the VIP to another node after the acknowledgement: where the write was left behind (null: none seen). */
  failoverAt: string | null;
  /** The fault it is put down to: the fault whose window (injection until settled) holds that move (null: a move with no fault injected). */
  fault: number | null;
  kind: FaultKind | null;
  /** How long before that fault was injected the write was acknowledged (negative: during the fault). */
  msBeforeFault: number | null;
  found: string | null;
}

/** A move of the VIP to another node: when the new holder was first seen, and whether a fault explains it. */
export interface Failover {
  at: string;
  from: string | null;
  to: string;
  fault: number | null;
}

export interface Interval {
  /** Two holders of the VIP, or two hosts' redis answering PING at their own addresses. */
  what: 'vip' | 'answering';
  from: string;
  ms: number;
  hosts: string[];
  /**
   * For two answering: the hand-over it fell in, if any. A node that steps down lets go of the VIP
   * first, then sends its program the stop signal; the program may answer at its own address until
   * it has handled that signal (redis: at its next cron tick) — no client reaches it by the VIP any
   * more. After an agent SIGKILL its keeper does the same. Null: no hand-over explains it.
   */
  during: string | null;
}

export interface CampaignReport {
  seed: number;
  seconds: number;
  faults: number;
  availability: number;
  downtimeMs: number;
  commands: { total: number; failed: number; readMisses: number };
  writes: { acknowledged: number; lost: number; lostByKind: Partial<Record<FaultKind, number>> };
  doubleActive: { vipSamples: number; vipSampleCount: number; answeringSamples: number; answeringSampleCount: number; intervals: Interval[] };
  byKind: Partial<Record<FaultKind, { count: number; detectMs: (number | null)[]; recoveryMs: number[]; outageMs: number[]; longestCommandMs: number[]; lostWrites: number; movedAway: number; what: string }>>;
  perFault: FaultOutcome[];
  /** Every move of the VIP; those with no fault are failovers nobody asked for (a node judged dead while it was slow). */
  failovers: Failover[];
  lost: LostWrite[];
  readBackFrom: string;
}

const iso = (t: number) => new Date(t).toISOString();
/** Journal kinds that say something about a fault (mirror copies, shim sessions and configuration are background). */
const DETECTING = new Set(['transition', 'liveness', 'failover', 'agent', 'adoption', 'error']);

/**
 * Fraction of client time [from, until) covered by answered commands (each command holds until the
 * next one starts). A read that finds an acknowledged write missing was answered: it counts as
 * up here and as a lost write in the report.
 */
export function probeAvailability(ops: readonly ClientOp[], from: number, until: number): { availability: number; downMs: number } {
  const sorted = [...ops].sort((a, b) => a.start - b.start);
  let up = 0;
  let down = 0;
  sorted.forEach((o, i) => {
    const next = i + 1 < sorted.length ? (sorted[i + 1] as ClientOp).start : Math.max(until, o.end);
    // The part of the command's time that falls in the window.
    const span = Math.max(0, Math.min(next, until) - Math.max(o.start, from));
    if (o.result !== 'fail') up += span;
    else down += span;
  });
  const total = up + down;
  return { availability: total === 0 ? 0 : up / total, downMs: down };
}

/** Runs of consecutive samples with more than one host, merged into intervals. */
function doubleIntervals(what: Interval['what'], samples: readonly { t: number; hosts: string[] }[]): Omit<Interval, 'during'>[] {
  const out: Omit<Interval, 'during'>[] = [];
  let cur: { from: number; to: number; hosts: Set<string> } | null = null;
  for (const s of samples) {
    if (s.hosts.length > 1) {
      if (!cur) cur = { from: s.t, to: s.t, hosts: new Set() };
      cur.to = s.t;
      for (const h of s.hosts) cur.hosts.add(h);
    } else if (cur) {
      out.push({ what, from: iso(cur.from), ms: Math.round(s.t - cur.from), hosts: [...cur.hosts] });
      cur = null;
    }
  }
  if (cur) out.push({ what, from: iso(cur.from), ms: Math.round(cur.to - cur.from), hosts: [...cur.hosts] });
  return out;
}

/**
 * The hand-over that a sample at `t` with two hosts' redis answering falls in: one of them was
 * stopping its redis at `t` (its journal says `stopping`, and not yet what came after), or its agent
 * had been SIGKILLed and its keeper had at most the stop grace left to stop redis.
 */
function handoverAt(t: number, hosts: readonly string[], events: readonly (JournalEvent & { t: number })[], faults: readonly FaultRecord[], stopGraceMs: number): string | null {
  for (const h of hosts) {
    const mine = events.filter((e) => e.node === h && e.kind === 'transition' && e.service === 'redis');
    const last = mine.filter((e) => e.t <= t).at(-1);
    if (last?.to === 'stopping') return `${h} was stopping its redis (for ${Math.round(t - last.t)} ms; ${last.reason})`;
    const kill = faults.find((f) => f.kind === 'agent-kill' && f.node === h && t >= f.injectAt && t <= Math.max(f.settledAt, f.injectAt + stopGraceMs));
    if (kill) return `${h}'s agent was killed ${Math.round(t - kill.injectAt)} ms before; its keeper stops its redis`;
  }
  return null;
}

/** Times the VIP came to a new node: a host that did not hold it in the sample before, other than the last holder. */
function vipMoves(samples: readonly { t: number; holders: string[] }[]): { t: number; from: string | null; to: string }[] {
  const out: { t: number; from: string | null; to: string }[] = [];
  let last: string | null = null;
  let prev = new Set<string>();
  for (const s of samples) {
    for (const h of s.holders) {
      if (prev.has(h) || h === last) continue;
      // The first holder of all is where the service started, not a move.
      if (last !== null) out.push({ t: s.t, from: last, to: h });
      last = h;
    }
    prev = new Set(s.holders);
  }
  return out;
}

/** The fault whose window (injection until settled) holds time `t`, or null. */
function faultAt(faults: readonly FaultRecord[], t: number): number | null {
  const i = faults.findIndex((f) => t >= f.injectAt && t <= f.settledAt);
  return i >= 0 ? i : null;
}

export function campaignReport(input: CampaignInput): CampaignReport {
  const { faults, ops } = input;
  const events = input.events
    .filter((e) => DETECTING.has(e.kind) && (e.service === undefined || e.service === 'redis'))
    .map((e) => ({ ...e, t: Date.parse(e.time) }))
    .sort((a, b) => a.t - b.t);

  const failovers = vipMoves(input.vip).map((m) => ({ ...m, fault: faultAt(faults, m.t) }));
  const lost: LostWrite[] = [];
  for (const [key, ackedAt] of input.acked) {
    const found = input.readBack.get(key) ?? null;
    if (found === `v${key}`) continue;
    const move = failovers.find((m) => m.t >= ackedAt);
    // Without a move after it, the write went with the first fault after it (the report says so by failoverAt: null).
    const i = move ? move.fault : faults.findIndex((f) => f.settledAt >= ackedAt);
    const f = i !== null && i >= 0 ? (faults[i] as FaultRecord) : null;
    lost.push({ key, ackedAt: iso(ackedAt), failoverAt: move ? iso(move.t) : null, fault: f ? (i as number) : null, kind: f?.kind ?? null, msBeforeFault: f ? f.injectAt - ackedAt : null, found });
  }
  lost.sort((a, b) => a.key - b.key);

  const perFault: FaultOutcome[] = faults.map((f, i) => {
    const windowEnd = Math.max(f.settledAt, i + 1 < faults.length ? Math.min((faults[i + 1] as FaultRecord).injectAt, f.settledAt + 5000) : f.settledAt);
    const detected = events.find((e) => e.t >= f.injectAt && e.t <= windowEnd && e.node !== 'client');
    // A command that failed after the fault is the fault's; one still in flight when the next fault came belongs to that one.
    const inWindow = ops.filter((o) => o.end >= f.injectAt && o.end <= windowEnd);
    const failed = inWindow.filter((o) => o.result === 'fail');
    const lastFail = failed.at(-1);
    const back = lastFail ? ops.find((o) => o.start >= lastFail.end && o.result !== 'fail') : undefined;
    const recoveryMs = lastFail ? (back ? back.end : windowEnd) - f.injectAt : 0;
    return {
      kind: f.kind,
      node: f.node,
      injectAt: iso(f.injectAt),
      detectMs: detected ? detected.t - f.injectAt : null,
      detectedBy: detected ? `${detected.node}: ${detected.from && detected.to ? `${detected.from} → ${detected.to}: ` : ''}${detected.reason}` : null,
      recoveryMs: Math.max(0, Math.round(recoveryMs)),
      outageMs: Math.round(probeAvailability(ops, f.injectAt, windowEnd).downMs),
      failedCommands: failed.length,
      failedWhy: [...new Set(failed.map((o) => o.why))],
      longestCommandMs: Math.round(Math.max(0, ...inWindow.map((o) => o.end - o.start))),
      movedTo: f.after !== null && f.after !== f.node ? f.after : null,
      settled: f.recovered,
      settleMs: f.settledAt - f.injectAt,
      lostWrites: lost.filter((l) => l.fault === i).length,
      notes: f.notes,
    };
  });

  const byKind: CampaignReport['byKind'] = {};
  for (const o of perFault) {
    const k = (byKind[o.kind] ??= { count: 0, detectMs: [], recoveryMs: [], outageMs: [], longestCommandMs: [], lostWrites: 0, movedAway: 0, what: FAULT_TEXT[o.kind] });
    k.count += 1;
    k.detectMs.push(o.detectMs);
    k.recoveryMs.push(o.recoveryMs);
    k.outageMs.push(o.outageMs);
    k.longestCommandMs.push(o.longestCommandMs);
    k.lostWrites += o.lostWrites;
    if (o.movedTo) k.movedAway += 1;
  }
  const lostByKind: Partial<Record<FaultKind, number>> = {};
  for (const l of lost) if (l.kind) lostByKind[l.kind] = (lostByKind[l.kind] ?? 0) + 1;

  const { availability, downMs } = probeAvailability(ops, input.from, input.until);
  const vip = input.vip.filter((s) => s.t >= input.from && s.t <= input.until);
  const answering = input.answering.filter((s) => s.t >= input.from && s.t <= input.until);
  const inRun = ops.filter((o) => o.start >= input.from && o.start < input.until);
  return {
    seed: input.seed,
    seconds: Math.round((input.until - input.from) / 1000),
    faults: faults.length,
    availability: Math.round(availability * 1e6) / 1e6,
    downtimeMs: Math.round(downMs),
    commands: { total: inRun.length, failed: inRun.filter((o) => o.result === 'fail').length, readMisses: inRun.filter((o) => o.result === 'miss').length },
    writes: { acknowledged: input.acked.size, lost: lost.length, lostByKind },
    doubleActive: {
      vipSamples: vip.filter((s) => s.holders.length > 1).length,
      vipSampleCount: vip.length,
      answeringSamples: answering.filter((s) => s.answering.length > 1).length,
      answeringSampleCount: answering.length,
      intervals: [
        ...doubleIntervals('vip', vip.map((s) => ({ t: s.t, hosts: s.holders }))).map((i) => ({ ...i, during: null })),
        ...doubleIntervals('answering', answering.map((s) => ({ t: s.t, hosts: s.answering }))).map((i) => {
          // Every sample of the interval needs the explanation, not only its first.
          const from = Date.parse(i.from);
          const whys = answering.filter((s) => s.answering.length > 1 && s.t >= from && s.t <= from + i.ms).map((s) => handoverAt(s.t, s.answering, events, faults, input.stopGraceMs));
          return { ...i, during: whys.every((w) => w !== null) ? (whys[0] ?? null) : null };
        }),
      ],
    },
    byKind,
    perFault,
    failovers: failovers.map((m) => ({ at: iso(m.t), from: m.from, to: m.to, fault: m.fault })),
    lost,
    readBackFrom: input.readBackFrom,
  };
}
