import path from 'node:path';
import { ArmoryError } from '../../../common/errors/armory-error.js';

/** The systemd unit enrollment installs where PID 1 is systemd. */
export const UNIT_NAME = 'armory-agent.service';

/**
 * Where an enrolled agent lives on its host. `root` is '' on a real host; tests (and hosts that
 * share one filesystem) put everything under a folder of their own, so that nothing touches the
 * real /opt, /var/lib or /etc.
 */
export interface RemoteLayout {
  readonly root: string;
  /** The agent bundle (and Node runtime when shipped): /opt/armory. */
  readonly installDir: string;
  /** The agent's state: /var/lib/armory, 0700. */
  readonly stateDir: string;
  readonly tlsDir: string;
  readonly agentScript: string;
  /** Where a shipped Node runtime is installed. */
  readonly runtimeNode: string;
  /** How this installation was made, for removal: INSTALL/enrollment.json. */
  readonly manifestFile: string;
  /** The keeper's and agent's stdout/stderr when there is no systemd. */
  readonly keeperLog: string;
  readonly unitFile: string;
}

/** Paths on the host are shell-quoted anyway; keeping them plain also keeps them safe in crontab and unit lines. */
const PLAIN_PATH = /^(\/[A-Za-z0-9._-]+)+$/;
/** A Unix socket path holds at most 107 bytes; the agent's control socket is STATE/agent.sock. */
const MAX_SOCKET_PATH = 107;

export function remoteLayout(installRoot: string): RemoteLayout {
  if (installRoot !== '' && (!PLAIN_PATH.test(installRoot) || path.posix.normalize(installRoot) !== installRoot || installRoot.split('/').includes('..'))) {
    throw new ArmoryError('ENROLL_E_OPTIONS', `installRoot must be '' or a plain absolute path (letters, digits, '.', '_', '-'), not ${JSON.stringify(installRoot)}`);
  }
  const r = installRoot;
  const installDir = `${r}/opt/armory`;
  const stateDir = `${r}/var/lib/armory`;
  if (Buffer.byteLength(`${stateDir}/agent.sock`) > MAX_SOCKET_PATH) {
    throw new ArmoryError('ENROLL_E_OPTIONS', `installRoot ${installRoot} is too long: the agent's socket ${stateDir}/agent.sock would exceed ${MAX_SOCKET_PATH} bytes`);
  }
  return Object.freeze({
    root: r,
    installDir,
    stateDir,
    tlsDir: `${stateDir}/tls`,
    agentScript: `${installDir}/dist/agent.js`,
    runtimeNode: `${installDir}/runtime/bin/node`,
    manifestFile: `${installDir}/enrollment.json`,
    keeperLog: `${stateDir}/keeper.log`,
    unitFile: `${r}/etc/systemd/system/${UNIT_NAME}`,
  });
}
