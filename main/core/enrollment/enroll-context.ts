import type { AgentHello } from './agent-readiness.js';
import type { UploadRecord } from './bundle-upload.js';
import type { NormalisedEnrollOptions } from './enrollment-options.js';
import type { HostConnection } from './host-connection.js';
import type { HostProfile } from './host-profile.js';
import type { ServiceManager } from './install-manifest.js';
import type { PreviousInstall } from './previous-install.js';
import type { RemoteLayout } from './remote-layout.js';
import type { Privilege } from './remote-shell.js';

/** What the profile decided about how the agent goes onto this host. */
export interface InstallPlan {
  readonly privilege: Privilege;
  readonly service: ServiceManager;
  /** 'host': the host's own Node >= 20; 'bundled': the runtime shipped in INSTALL/runtime. */
  readonly runtime: 'host' | 'bundled';
  readonly nodePath: string;
  /** An @reboot crontab line brings the keeper back after a reboot. */
  readonly crontab: boolean;
  /** Where everything goes: the system layout, or the user's home for a user unit. */
  readonly layout: RemoteLayout;
}

/**
 * The state one enrollment carries from step to step. Each step's record is filled in as the step
 * goes, so that its undo knows exactly what to take back even after a partial run.
 */
export interface EnrollContext {
  /** Fixed before the first step, except that the profile step moves a user-unit installation's layout into the user's home. */
  o: NormalisedEnrollOptions;
  readonly conn: HostConnection;
  profile: HostProfile | null;
  plan: InstallPlan | null;
  previous: PreviousInstall | null;
  /** What the 'previous' step stopped, to start it again on rollback. */
  stopped: { unit: boolean; relaunch: readonly string[] | null } | null;
  readonly upload: UploadRecord;
  readonly certificate: {
    stateDirExisted: boolean | null;
    tlsExisted: boolean | null;
    madeDirs: string[];
    staging: string | null;
    previous: string | null;
  };
  readonly install: {
    manifestWritten: boolean;
    /** root's crontab before the line was added: its text, or null when root had none; undefined: untouched. */
    crontabBefore: string | null | undefined;
    /** The command that adds the line was sent (its answer may have been lost). */
    crontabAttempted: boolean;
    /** The unit file before (text, or null when there was none); undefined: untouched. */
    unitBefore: string | null | undefined;
  };
  readonly start: { launched: boolean };
  hello: AgentHello | null;
}
