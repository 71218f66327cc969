import type { ArmoryError } from '../../../common/errors/armory-error.js';
import type { AgentHello } from './agent-readiness.js';
import { emptyUploadRecord } from './bundle-upload.js';
import type { EnrollContext, InstallPlan } from './enroll-context.js';
import { normaliseEnrollOptions, type EnrollOptions } from './enrollment-options.js';
import { HostConnection } from './host-connection.js';
import type { HostProfile } from './host-profile.js';
import { certificateStep } from './step-certificate.js';
import { connectStep } from './step-connect.js';
import { installStep } from './step-install.js';
import { previousStep } from './step-previous.js';
import { profileStep } from './step-profile.js';
import { runSteps, type ProgressEvent, type Step, type StepRecord } from './step-runner.js';
import { startStep } from './step-start.js';
import { uploadStep } from './step-upload.js';

/**
 * The enrollment, in order. Each step's undo takes back what it changed; a failure runs the undos
 * of the failed step and of every earlier one, last first — so 'previous' (which stopped an agent
 * already there) starts that agent again only after its files and certificate are back.
 */
export const ENROLLMENT_STEPS: readonly Step<EnrollContext>[] = Object.freeze([connectStep, profileStep, previousStep, uploadStep, certificateStep, installStep, startStep]);

export type EnrollmentResult =
  | {
      readonly ok: true;
      readonly node: string;
      /** To pin in the inventory: the next enrollment or removal must see the same key. */
      readonly hostKey: string;
      readonly profile: HostProfile;
      readonly plan: InstallPlan;
      readonly agent: AgentHello;
      readonly steps: readonly StepRecord[];
      readonly warnings: readonly string[];
    }
  | {
      readonly ok: false;
      readonly node: string;
      /** The key seen, when the connection got that far. */
      readonly hostKey: string | null;
      readonly profile: HostProfile | null;
      readonly failedStep: string;
      readonly error: ArmoryError;
      readonly rolledBack: readonly string[];
      readonly undoFailed: readonly { readonly step: string; readonly error: ArmoryError }[];
      readonly steps: readonly StepRecord[];
      readonly warnings: readonly string[];
    };

/**
 * Enrolls a Linux host as a node: connect and pin the host key, take the profile (refusing an
 * unsupported host), stop an earlier agent, upload the bundle, issue and install the certificate,
 * install the service, start it and wait until it answers over mutual TLS. Every step is reported
 * live through `onProgress`; a failure rolls back every step done and the result says what failed
 * and what was rolled back. Enrolling an enrolled host again replaces its files and restarts it
 * (its programs keep running). Invalid options throw ENROLL_E_OPTIONS before anything is done.
 */
export async function enrollNode(options: EnrollOptions, onProgress: (e: ProgressEvent) => void): Promise<EnrollmentResult> {
  const o = normaliseEnrollOptions(options);
  const conn = new HostConnection(o.target);
  const ctx: EnrollContext = {
    o,
    conn,
    profile: null,
    plan: null,
    previous: null,
    stopped: null,
    upload: emptyUploadRecord(),
    certificate: { stateDirExisted: null, tlsExisted: null, madeDirs: [], staging: null, previous: null },
    install: { manifestWritten: false, crontabBefore: undefined, crontabAttempted: false, unitBefore: undefined },
    start: { launched: false },
    hello: null,
  };
  try {
    const r = await runSteps(ENROLLMENT_STEPS, ctx, onProgress);
    if (r.ok && ctx.profile && ctx.plan && ctx.hello && conn.hostKey) {
      return Object.freeze({ ok: true, node: o.node, hostKey: conn.hostKey, profile: ctx.profile, plan: ctx.plan, agent: ctx.hello, steps: r.steps, warnings: r.warnings });
    }
    if (r.ok) throw new Error('enrollment finished without its results');
    return Object.freeze({
      ok: false,
      node: o.node,
      hostKey: conn.hostKey,
      profile: ctx.profile,
      failedStep: r.failedStep,
      error: r.error,
      rolledBack: r.rolledBack,
      undoFailed: r.undoFailed,
      steps: r.steps,
      warnings: r.warnings,
    });
  } finally {
    conn.close();
  }
}
