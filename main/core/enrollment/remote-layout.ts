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
  /** 'system': the agent runs as root; 'user': as the login user, from a user unit in its home. */
  readonly kind: 'system' | 'user';
  /** '' on a real host (system layout), the home folder (user layout), or the test's installRoot. */
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

function checkedBase(base: string, what: string): void {
  if (base !== '' && (!PLAIN_PATH.test(base) || path.posix.normalize(base) !== base || base.split('/').includes('..'))) {
    throw new ArmoryError('ENROLL_E_OPTIONS', `${what} must be '' or a plain absolute path (letters, digits, '.', '_', '-'), not ${JSON.stringify(base)}`);
  }
}

function layout(kind: RemoteLayout['kind'], root: string, installDir: string, stateDir: string, unitFile: string): RemoteLayout {
  const what = kind === 'system' ? 'installRoot' : 'the home folder';
  if (Buffer.byteLength(`${stateDir}/agent.sock`) > MAX_SOCKET_PATH) {
    throw new ArmoryError('ENROLL_E_OPTIONS', `${what} ${root} is too long: the agent's socket ${stateDir}/agent.sock would exceed ${MAX_SOCKET_PATH} bytes`);
  }
  return Object.freeze({
    kind,
    root,
    installDir,
    stateDir,
    tlsDir: `${stateDir}/tls`,
    agentScript: `${installDir}/dist/agent.js`,
    runtimeNode: `${installDir}/runtime/bin/node`,
    manifestFile: `${installDir}/enrollment.json`,
    keeperLog: `${stateDir}/keeper.log`,
    unitFile,
  });
}

/** The system layout: /opt/armory, /var/lib/armory and /etc/systemd/system, under installRoot when one is given. */
export function remoteLayout(installRoot: string): RemoteLayout {
  checkedBase(installRoot, 'installRoot');
  const r = installRoot;
  return layout('system', r, `${r}/opt/armory`, `${r}/var/lib/armory`, `${r}/etc/systemd/system/${UNIT_NAME}`);
}

/** The layout of a user-unit installation, in the login user's home (or under installRoot): ~/.local/lib/armory, ~/.local/state/armory, ~/.config/systemd/user. */
export function userLayout(home: string): RemoteLayout {
  checkedBase(home, 'the home folder');
  if (home === '') throw new ArmoryError('ENROLL_E_UNSUPPORTED', 'the login user has no home folder ($HOME) for a user-unit installation');
  return layout('user', home, `${home}/.local/lib/armory`, `${home}/.local/state/armory`, `${home}/.config/systemd/user/${UNIT_NAME}`);
}
