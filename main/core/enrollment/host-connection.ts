import { ArmoryError } from '../../../common/errors/armory-error.js';
import { RemoteShell, type Privilege } from './remote-shell.js';
import { SshSession, type SshTarget } from './ssh-session.js';

const RECONNECT_ATTEMPTS = 3;
const RECONNECT_PAUSE_MS = 500;

/**
 * The SSH connection of one enrollment or removal. The first connection applies the caller's
 * host-key policy; after that the key it accepted is pinned, so that a reconnection — a rollback
 * after the connection dropped mid-upload — only ever talks to the same host.
 */
export class HostConnection {
  private current: RemoteShell | null = null;
  private key: string | null = null;
  private privilege: Privilege | null = null;
  private closed = false;
  /** Set when reconnecting failed: later undos fail at once instead of trying again, each for as long. */
  private unreachable: ArmoryError | null = null;

  constructor(private readonly target: SshTarget) {}

  /** The accepted host key (`SHA256:…`), once connected. */
  get hostKey(): string | null {
    return this.key;
  }

  async open(): Promise<{ shell: RemoteShell; how: 'pinned' | 'trusted' | 'confirmed' }> {
    const session = await SshSession.open(this.target);
    this.key = session.hostKey;
    this.current = new RemoteShell(session);
    return { shell: this.current, how: session.hostKeyHow };
  }

  /** Remembered across reconnections. */
  usePrivilege(privilege: Privilege): void {
    this.privilege = privilege;
    this.current?.usePrivilege(privilege);
  }

  /** A live shell: the current one, or a new connection to the same host key when the old one dropped. */
  async shell(): Promise<RemoteShell> {
    if (this.current?.session.alive) return this.current;
    if (this.closed) throw new ArmoryError('ENROLL_E_CONNECT', 'the connection to the host was closed');
    if (this.key === null) throw new ArmoryError('ENROLL_E_CONNECT', `not connected to ${this.target.host}`);
    if (this.unreachable) throw this.unreachable;
    let last: unknown = null;
    for (let attempt = 1; attempt <= RECONNECT_ATTEMPTS; attempt++) {
      try {
        const session = await SshSession.open({ ...this.target, hostKey: { pinned: this.key, trust: null, confirm: null } });
        this.current = new RemoteShell(session, this.privilege);
        return this.current;
      } catch (e) {
        last = e;
        if (e instanceof ArmoryError && e.code === 'ENROLL_E_HOST_KEY_CHANGED') throw e;
        if (attempt < RECONNECT_ATTEMPTS) await new Promise((r) => setTimeout(r, RECONNECT_PAUSE_MS));
      }
    }
    const why = last instanceof ArmoryError ? last.message : (last as Error).message;
    this.unreachable = new ArmoryError('ENROLL_E_CONNECT', `the connection to ${this.target.host} was lost and ${RECONNECT_ATTEMPTS} attempts to reconnect failed (last: ${why})`, {
      host: this.target.host,
    });
    throw this.unreachable;
  }

  /** Drops the current connection (the next shell() reconnects): used to cut off an upload that ran out of time. */
  interrupt(): void {
    this.current?.session.close();
  }

  close(): void {
    this.closed = true;
    this.current?.session.close();
    this.current = null;
  }
}
