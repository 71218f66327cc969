import { ArmoryError } from '../../../common/errors/armory-error.js';
import { shellQuote } from '../../../common/node/shell-quote.js';
import type { ExecResult, SshSession } from './ssh-session.js';

/**
 * How enrollment's privileged commands run: as root (the login user is root, or through
 * passwordless sudo), or — for an agent installed as a user unit — as the login user itself.
 */
export type Privilege = 'root' | 'sudo' | 'user';

export interface RunOptions {
  readonly stdin?: string | Buffer;
  readonly timeoutMs?: number;
  readonly maxStdoutBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function tail(text: string, lines: number): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/**
 * Runs POSIX shell scripts on the host, as the login user or as root (directly, or through
 * `sudo -n`, which never prompts: a sudo that wants a password fails instead of hanging).
 */
export class RemoteShell {
  constructor(
    readonly session: SshSession,
    private privilege: Privilege | null = null,
  ) {}

  /** Set once the profile has shown how root is reached. */
  usePrivilege(privilege: Privilege): void {
    this.privilege = privilege;
  }

  get asRoot(): Privilege | null {
    return this.privilege;
  }

  private command(script: string, privileged: boolean): string {
    const sh = `sh -c ${shellQuote(script)}`;
    if (!privileged) return sh;
    if (this.privilege === null) throw new ArmoryError('ENROLL_E_COMMAND', 'a command needs root before the host profile said how to become root');
    return this.privilege === 'sudo' ? `sudo -n ${sh}` : sh;
  }

  /** Runs a script and returns what happened, whatever its exit code. */
  run(script: string, options: RunOptions & { privileged: boolean }): Promise<ExecResult> {
    return this.session.exec(this.command(script, options.privileged), {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
      ...(options.maxStdoutBytes !== undefined ? { maxStdoutBytes: options.maxStdoutBytes } : {}),
    });
  }

  /** Runs a script as root; a non-zero exit is ENROLL_E_COMMAND saying what was being done and the end of stderr. */
  async root(what: string, script: string, options: RunOptions = {}): Promise<string> {
    return this.checked(what, script, { ...options, privileged: true });
  }

  /** Like root(), as the login user. */
  async user(what: string, script: string, options: RunOptions = {}): Promise<string> {
    return this.checked(what, script, { ...options, privileged: false });
  }

  private async checked(what: string, script: string, options: RunOptions & { privileged: boolean }): Promise<string> {
    const r = await this.run(script, options);
    if (r.code !== 0) {
      const why = tail(r.stderr, 5) || tail(r.stdout, 5) || (r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`);
      throw new ArmoryError('ENROLL_E_COMMAND', `${what} failed on ${this.session.target.host}: ${why}`, { host: this.session.target.host, exitCode: r.code });
    }
    return r.stdout;
  }
}
