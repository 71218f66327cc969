import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { DurableFile } from '../../common/node/durable-file.js';
import type { CommandResult } from '../os/run-command.js';
import { signalGroup } from '../supervisor/proc.js';
import { groupHasStoppedMember, isSameLiveProcess } from '../../common/node/proc-stat.js';
import { ip, localLookupAtZero, undoDone, type IpArgs, type UndoStep } from './net-faults.js';

/** Where an agent whose state directory is `agentStateDir` records the faults it has not undone yet. */
export const drillLeftoversFile = (agentStateDir: string): string => path.join(agentStateDir, 'drill', 'undo.json');

const drillId = z.string().max(64);
const stepSchema = z.strictObject({ ip: z.array(z.string().max(256)).max(64), guard: z.literal('local-at-0').optional() });
const entrySchema = z.discriminatedUnion('kind', [
  /** A network fault: the `ip` commands still to run. */
  z.strictObject({ kind: z.literal('net'), drill: drillId, undo: z.array(stepSchema).max(1024) }),
  /** A hang: the stopped process group, named by its leader's pid and start time (a recycled pgid is never resumed). */
  z.strictObject({ kind: z.literal('hang'), drill: drillId, pgid: z.number().int().positive(), startTicks: z.number().int().nonnegative() }),
]);
const leftoversSchema = z.array(entrySchema).max(64);
export type DrillLeftover = z.output<typeof entrySchema>;

export interface DrillLeftoversOptions {
  /** Runs one `ip` command (tests replace it). */
  run?: (args: IpArgs) => Promise<CommandResult>;
  /** The record was damaged: says how it was recovered (the last good copy, or nothing left). */
  onRecovered?: (reason: string) => void;
}

/** What one undo did, line by line, and whether all of it is done (else the rest is kept to retry). */
export interface UndoOutcome {
  said: string[];
  done: boolean;
}

/**
 * The undo of the faults a drill made on this node (partition rules, a link set down and the routes
 * it flushed, a stopped process group), kept durably in a DurableFile: written before the fault is
 * made, cleared once it is undone. A step that fails for another reason than "nothing left to undo"
 * is kept, to retry. An agent that starts finds what a dead one left behind and undoes it, as
 * HeldVips does for virtual IPs. Every operation runs after the one before it has ended.
 */
export class DrillLeftovers {
  private readonly store: DurableFile<DrillLeftover[]>;
  private readonly run: (args: IpArgs) => Promise<CommandResult>;
  private pending: DrillLeftover[] | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly options: DrillLeftoversOptions = {},
  ) {
    this.run = options.run ?? ip;
    this.store = new DurableFile(file, leftoversSchema, {
      onRecovered: (info) => options.onRecovered?.(`${info.file} was ${info.problem}; recovered from its last good copy ${info.usedBackup}${info.corruptCopy ? ` (the damaged one kept as ${info.corruptCopy})` : ''}`),
    });
  }

  /** What is still to undo (read from the file on first use). */
  async entries(): Promise<readonly DrillLeftover[]> {
    return this.serial(async () => this.loaded());
  }

  /** Records a network fault's undo (durably) before the fault is made. */
  recordNet(drill: string, undo: readonly UndoStep[]): Promise<void> {
    return this.serial(async () => this.put({ kind: 'net', drill, undo: undo.map(copyStep) }));
  }

  /** Records a process group about to be stopped (durably) before SIGSTOP. */
  recordHang(drill: string, pgid: number, startTicks: number): Promise<void> {
    return this.serial(async () => this.put({ kind: 'hang', drill, pgid, startTicks }));
  }

  /** Undoes what a drill left (see UndoOutcome); forgets it once all of it is done. */
  undo(drill: string): Promise<UndoOutcome> {
    return this.serial(async () => {
      const entry = (await this.loaded()).find((p) => p.drill === drill);
      if (!entry) return { said: [], done: true };
      const { said, left } = entry.kind === 'hang' ? { said: [resumeHang(entry.pgid, entry.startTicks)], left: [] } : await this.runSteps(entry.undo);
      const rest = (await this.loaded()).filter((p) => p.drill !== drill);
      await this.write(left.length === 0 || entry.kind === 'hang' ? rest : [...rest, { ...entry, undo: left.map(copyStep) }]);
      return { said, done: left.length === 0 };
    });
  }

  /** Undoes everything recorded (at agent start); says what it did. */
  async undoAll(): Promise<UndoOutcome> {
    const out: UndoOutcome = { said: [], done: true };
    for (const p of await this.entries()) {
      const r = await this.undo(p.drill);
      out.said.push(...r.said);
      out.done &&= r.done;
    }
    return out;
  }

  private async runSteps(steps: readonly UndoStep[]): Promise<{ said: string[]; left: UndoStep[] }> {
    const said: string[] = [];
    const left: UndoStep[] = [];
    for (const step of steps) {
      const line = `ip ${step.ip.join(' ')}`;
      if (step.guard === 'local-at-0' && !(await localLookupAtZero(this.run))) {
        said.push(`${line} (not yet: rule 0 lookup local is missing; kept to retry)`);
        left.push(step);
        continue;
      }
      const r = await this.run(step.ip);
      if (r.code === 0) said.push(line);
      else if (undoDone(r)) said.push(`${line} (nothing to undo: ${r.stderr.trim()})`);
      else {
        said.push(`${line} FAILED (${r.stderr.trim() || `exit code ${r.code}`}; kept to retry)`);
        left.push(step);
      }
    }
    return { said, left };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async loaded(): Promise<DrillLeftover[]> {
    if (this.pending) return this.pending;
    try {
      this.pending = (await this.store.read()) ?? [];
    } catch (e) {
      if (!(e instanceof ArmoryError) || e.code !== 'STORE_E_CORRUPT') throw e;
      // Nothing good is left: keep the damaged file aside for a person, say so loudly, and go on
      // (the detached restorers still undo the network faults it held).
      const aside = `${this.file}.corrupt-${Date.now()}`;
      await fsp.rename(this.file, aside).catch(() => undefined);
      this.options.onRecovered?.(`${e.message}; kept as ${aside}: the faults it recorded are not undone by this agent (their detached restorers still run)`);
      this.pending = [];
    }
    return this.pending;
  }

  private async put(entry: DrillLeftover): Promise<void> {
    await this.write([...(await this.loaded()).filter((p) => p.drill !== entry.drill), entry]);
  }

  private async write(next: DrillLeftover[]): Promise<void> {
    await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await this.store.write(next);
    this.pending = next;
  }
}

const copyStep = (s: UndoStep) => ({ ip: [...s.ip], ...(s.guard ? { guard: s.guard } : {}) });

/** SIGCONT to a group a drill stopped, if its leader is the very process stopped and it is still stopped. */
function resumeHang(pgid: number, startTicks: number): string {
  if (!isSameLiveProcess(pgid, startTicks)) return `process group ${pgid}: its leader is gone, nothing to resume`;
  if (!groupHasStoppedMember(pgid)) return `process group ${pgid}: not stopped, nothing to resume`;
  return signalGroup(pgid, 'SIGCONT') ? `SIGCONT to the process group ${pgid}` : `process group ${pgid}: gone, nothing to resume`;
}
