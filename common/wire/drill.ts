import { z } from 'zod';

/** The faults a failover drill can inject on the node that runs a service. */
export const DRILL_FAULTS = ['kill', 'hang', 'agent-kill', 'link-down', 'partition'] as const;
export type DrillFault = (typeof DRILL_FAULTS)[number];
export const drillFaultSchema = z.enum(DRILL_FAULTS);

/** What each fault does, for the CLI help and the GUI's fault picker. */
export const DRILL_FAULT_HELP: Readonly<Record<DrillFault, string>> = {
  kill: 'SIGKILL the program\'s process group',
  hang: 'SIGSTOP the program (liveness must notice and restart it)',
  'agent-kill': 'the node\'s agent kills itself (its keeper or systemd restarts it)',
  'link-down': 'take the service\'s network interface down for the duration',
  partition: 'cut the node off from its group peers (not from clients) for the duration',
};

/** The longest a timed fault (link-down, partition) may last. */
export const DRILL_MAX_DURATION_MS = 120_000;

/** manager → agent: inject a fault on this node. */
export const drillInjectParamsSchema = z.strictObject({
  drill: z.string().regex(/^[0-9A-Za-z-]{1,64}$/),
  service: z.string().min(1).max(63),
  fault: drillFaultSchema,
  durationMs: z.number().int().min(100).max(DRILL_MAX_DURATION_MS),
});
export const drillInjectResultSchema = z.strictObject({
  message: z.string(),
  /** When the agent injected the fault (ISO, its clock). */
  at: z.string(),
  /** The program's process group that was signalled (kill, hang), else null. */
  pgrp: z.number().int().nullable(),
  /** What the agent will undo when the duration is over (link up, routes removed, SIGCONT). */
  undo: z.array(z.string()),
});
export type DrillInjectParams = z.input<typeof drillInjectParamsSchema>;
export type DrillInjectResult = z.output<typeof drillInjectResultSchema>;

/** A run of probes with the same outcome, in ms from the fault (negative: before it). */
export const probeSpanSchema = z.strictObject({ fromMs: z.number(), toMs: z.number(), ok: z.boolean(), count: z.number().int().nonnegative() });
export type ProbeSpan = z.output<typeof probeSpanSchema>;

/** One journal event of the drill's timeline, in ms from the fault. */
export const drillEventSchema = z.strictObject({ atMs: z.number(), node: z.string(), kind: z.string(), reason: z.string(), role: z.enum(['detection', 'recovery', 'other']) });
export type DrillEvent = z.output<typeof drillEventSchema>;

export const drillVerdictSchema = z.enum(['within-budget', 'over-budget', 'not-recovered', 'no-budget']);
export type DrillVerdict = z.output<typeof drillVerdictSchema>;

/** A failover drill's report, as the manager keeps it. */
export const drillReportSchema = z.strictObject({
  id: z.string().regex(/^[0-9A-Za-z-]{1,64}$/),
  service: z.string(),
  group: z.string().nullable(),
  fault: drillFaultSchema,
  forced: z.boolean(),
  durationMs: z.number().int(),
  startedAt: z.string(),
  faultAt: z.string(),
  endedAt: z.string(),
  probe: z.strictObject({ target: z.string(), everyMs: z.number() }),
  nodeBefore: z.string(),
  nodeAfter: z.string().nullable(),
  /** fault → the first failure, step-down or takeover in the nodes' journals. */
  detectionMs: z.number().nullable(),
  /** fault → the service ready again on some node. */
  recoveryMs: z.number().nullable(),
  /** first failed probe → the first successful probe after the last failure (null: no probe failed). */
  outageMs: z.number().nullable(),
  failedProbes: z.number().int().nonnegative(),
  totalProbes: z.number().int().nonnegative(),
  budget: z.strictObject({ detectMs: z.number(), startMs: z.number(), arpMs: z.number(), totalMs: z.number() }).nullable(),
  verdict: drillVerdictSchema,
  summary: z.string(),
  notes: z.array(z.string()),
  probes: z.array(probeSpanSchema).max(20_000),
  events: z.array(drillEventSchema).max(2000),
});
export type DrillReport = z.output<typeof drillReportSchema>;

/** A drill's progress as it runs, for the GUI. */
export const drillProgressSchema = z.strictObject({
  service: z.string(),
  fault: drillFaultSchema,
  phase: z.enum(['baseline', 'injected', 'recovered', 'cleanup', 'done', 'failed']),
  text: z.string(),
  /** ms since the fault (negative before it). */
  elapsedMs: z.number(),
  probesOk: z.number().int().nonnegative(),
  probesFailed: z.number().int().nonnegative(),
});
export type DrillProgress = z.output<typeof drillProgressSchema>;
