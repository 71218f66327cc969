import { Low } from 'lowdb';
import { z } from 'zod';
import { DurableFile, type StoreRecovery } from '../../common/node/durable-file.js';
import { SUPERVISOR_STATES } from '../supervisor/state-table.js';

const trackerSchema = z.object({
  restartTimes: z.array(z.number()),
  consecutive: z.number().int(),
  lastStartAt: z.number().nullable(),
  totalRestarts: z.number().int(),
});

const runnerSnapshotSchema = z.object({
  state: z.enum(SUPERVISOR_STATES),
  desired: z.enum(['up', 'down']),
  pid: z.number().int().nullable(),
  startTicks: z.number().int().nullable(),
  tracker: trackerSchema,
  reason: z.string(),
  lastExit: z.string().nullable(),
});

/** The agent's own durable state: what it runs (pid + start time), counters, the last applied configuration. */
export const agentStateSchema = z.object({
  format: z.literal(1),
  /** Marks the programs this agent started (ARMORY_INSTANCE in their environment). */
  instance: z.string().min(8),
  services: z.record(z.string(), runnerSnapshotSchema),
  /** The last configuration that passed validation, as its source text, so that none is lost. */
  appliedConfig: z.string().nullable(),
});

export type AgentStateDoc = z.output<typeof agentStateSchema>;

/**
 * The agent state journal: a lowdb document over the durable store. Saves are coalesced (the
 * newest state wins) and each one is atomic and fsynced.
 */
export class AgentStateJournal {
  private readonly db: Low<AgentStateDoc>;
  private writing: Promise<void> | null = null;
  private again = false;

  constructor(file: string, onRecovered: (info: StoreRecovery) => void) {
    const adapter = new DurableFile(file, agentStateSchema, { onRecovered });
    this.db = new Low<AgentStateDoc>(adapter, { format: 1, instance: '', services: {}, appliedConfig: null });
  }

  /** Reads the journal; a fresh one gets a new instance id. Throws STORE_E_CORRUPT when nothing good is left. */
  async load(newInstance: () => string): Promise<AgentStateDoc> {
    await this.db.read();
    if (this.db.data.instance === '') this.db.data = { format: 1, instance: newInstance(), services: {}, appliedConfig: null };
    return this.db.data;
  }

  get data(): AgentStateDoc {
    return this.db.data;
  }

  /** Schedules a save of the current data; resolves when a save that includes it is durable. */
  save(): Promise<void> {
    if (this.writing) {
      this.again = true;
      return this.writing;
    }
    this.writing = (async () => {
      try {
        do {
          this.again = false;
          await this.db.write();
        } while (this.again);
      } finally {
        this.writing = null;
      }
    })();
    return this.writing;
  }
}
