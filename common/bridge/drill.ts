import { z } from 'zod';
import { drillFaultSchema, drillProgressSchema, drillReportSchema } from '../wire/drill.js';
import { noParams, serviceName } from './common.js';
import { domain } from './domain.js';

/** One kept drill, as the list shows it (the full report, with its timeline, comes from `get`). */
export const drillListItemSchema = drillReportSchema.omit({ probes: true, events: true });
export type DrillListItem = z.output<typeof drillListItemSchema>;

/**
 * The longest fault a drill run through the bridge may ask for: with the baseline, the wait for
 * recovery (up to 30 s) and the journals (~50 s in all) it stays within the bridge's 2-minute answer
 * time. The CLI, which waits as long as the drill takes, accepts up to DRILL_MAX_DURATION_MS.
 */
export const DRILL_BRIDGE_MAX_DURATION_MS = 60_000;

export const drillDomain = domain(
  {
    /** The faults a drill can inject, with what each does (for the fault picker). */
    faults: { params: noParams, result: z.array(z.strictObject({ fault: drillFaultSchema, help: z.string() })) },
    /**
     * Runs a failover drill on a service and answers with its report once the service is back (or
     * the drill gave up). Refused with DRILL_E_NO_STANDBY when no standby is ready, unless forced.
     */
    run: {
      params: z.strictObject({ service: serviceName, fault: drillFaultSchema, durationMs: z.number().int().min(100).max(DRILL_BRIDGE_MAX_DURATION_MS).optional(), force: z.boolean().optional() }),
      result: drillReportSchema,
    },
    /** The kept drills, newest first (of one service when named). */
    list: { params: z.strictObject({ service: serviceName.optional(), limit: z.number().int().min(1).max(200).optional() }).optional(), result: z.array(drillListItemSchema) },
    /** One kept report with its timeline of probes and events. */
    get: { params: z.strictObject({ id: z.string().regex(/^[0-9A-Za-z-]{1,64}$/) }), result: drillReportSchema },
  },
  {
    /** A running drill's progress: its phase, and the probes so far. */
    progress: drillProgressSchema,
  },
);
