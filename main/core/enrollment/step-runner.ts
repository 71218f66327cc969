import { ArmoryError } from '../../../common/errors/armory-error.js';

/**
 * The enrollment engine is a saga: an explicit, ordered array of steps, each with the undo of what
 * it changes on the host. The order of the array is the whole transition structure — forward one
 * step at a time while steps succeed; on the first failure, backward through the undos of that
 * step and of every step before it — so it is written as data plus this one runner rather than as
 * a state × event table, which would only spell out "next index" and "previous index" for each row.
 */

export type StepStatus = 'running' | 'done' | 'failed' | 'rolled-back';

/** One line of live progress, as the CLI and the GUI render it. */
export interface ProgressEvent {
  readonly step: string;
  readonly status: StepStatus;
  readonly detail: string;
  /** Since the step (or its undo) began; for done/failed/rolled-back, how long it took. */
  readonly ms: number;
  /** 'rollback' for the events of an undo. */
  readonly phase: 'forward' | 'rollback';
}

/** How one step ended, for the result. */
export interface StepRecord {
  readonly step: string;
  readonly status: Exclude<StepStatus, 'running'>;
  readonly detail: string;
  readonly ms: number;
  /** The undo's own outcome, when the step was rolled back or its undo failed. */
  readonly rollback?: { readonly ok: boolean; readonly detail: string; readonly ms: number };
}

export interface Step<C> {
  readonly name: string;
  /** Does the step; the returned text is the detail of its 'done' event. `report` sends interim 'running' details. */
  run(ctx: C, report: (detail: string) => void): Promise<string>;
  /**
   * Takes back what `run` changed on the host. It also runs for the step that failed, so it must
   * cope with a run that stopped anywhere. Absent: the step changes nothing.
   */
  undo?(ctx: C): Promise<string>;
  /** After every step succeeded: drops what was kept only for an undo (the previous installation). */
  commit?(ctx: C): Promise<void>;
}

export type SagaResult =
  | { readonly ok: true; readonly steps: readonly StepRecord[]; readonly warnings: readonly string[] }
  | {
      readonly ok: false;
      readonly steps: readonly StepRecord[];
      readonly warnings: readonly string[];
      readonly failedStep: string;
      readonly error: ArmoryError;
      /** The steps whose changes were taken back, in the order they were undone. */
      readonly rolledBack: readonly string[];
      /** Steps whose undo failed: what they changed may still be on the host. */
      readonly undoFailed: readonly { readonly step: string; readonly error: ArmoryError }[];
    };

function asArmoryError(e: unknown): ArmoryError {
  if (e instanceof ArmoryError) return e;
  return new ArmoryError('ENROLL_E_COMMAND', (e as Error)?.message ?? String(e), {}, { cause: e });
}

/** Runs the steps in order; on a failure, runs the undos in reverse. Never throws: the result says what happened. */
export async function runSteps<C>(steps: readonly Step<C>[], ctx: C, onProgress: (e: ProgressEvent) => void, now: () => number = Date.now): Promise<SagaResult> {
  const emit = (e: ProgressEvent) => {
    try {
      onProgress(Object.freeze(e));
    } catch {
      // A listener that throws must not stop an enrollment half-way.
    }
  };
  const records: StepRecord[] = [];
  const warnings: string[] = [];
  let failedAt = -1;
  let error: ArmoryError | null = null;

  for (let i = 0; i < steps.length; i++) {
    const s = steps[i] as Step<C>;
    const started = now();
    emit({ step: s.name, status: 'running', detail: '', ms: 0, phase: 'forward' });
    try {
      const detail = await s.run(ctx, (d) => emit({ step: s.name, status: 'running', detail: d, ms: now() - started, phase: 'forward' }));
      const ms = now() - started;
      records.push({ step: s.name, status: 'done', detail, ms });
      emit({ step: s.name, status: 'done', detail, ms, phase: 'forward' });
    } catch (e) {
      error = asArmoryError(e);
      const ms = now() - started;
      records.push({ step: s.name, status: 'failed', detail: error.message, ms });
      emit({ step: s.name, status: 'failed', detail: error.message, ms, phase: 'forward' });
      failedAt = i;
      break;
    }
  }

  if (error === null) {
    for (const s of steps) {
      try {
        await s.commit?.(ctx);
      } catch (e) {
        warnings.push(`${s.name}: ${asArmoryError(e).message}`);
      }
    }
    return { ok: true, steps: records, warnings };
  }

  const rolledBack: string[] = [];
  const undoFailed: { step: string; error: ArmoryError }[] = [];
  for (let i = failedAt; i >= 0; i--) {
    const s = steps[i] as Step<C>;
    if (!s.undo) continue;
    const started = now();
    emit({ step: s.name, status: 'running', detail: 'rolling back', ms: 0, phase: 'rollback' });
    let outcome: { ok: boolean; detail: string };
    try {
      outcome = { ok: true, detail: await s.undo(ctx) };
      rolledBack.push(s.name);
    } catch (e) {
      const err = asArmoryError(e);
      undoFailed.push({ step: s.name, error: err });
      outcome = { ok: false, detail: `rollback failed: ${err.message}` };
    }
    const ms = now() - started;
    emit({ step: s.name, status: outcome.ok ? 'rolled-back' : 'failed', detail: outcome.detail, ms, phase: 'rollback' });
    const k = records.findIndex((r) => r.step === s.name);
    const before = records[k] as StepRecord;
    records[k] = { ...before, status: outcome.ok && before.status === 'done' ? 'rolled-back' : before.status, rollback: { ...outcome, ms } };
  }
  return { ok: false, steps: records, warnings, failedStep: (steps[failedAt] as Step<C>).name, error, rolledBack, undoFailed };
}
