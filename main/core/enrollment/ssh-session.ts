import fs from 'node:fs';
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { decideHostKey, hostKeyFingerprint, type HostKeyPolicy } from './host-key.js';

/**
 * How the manager logs in. The password or passphrase lives only in this object, in memory, for
 * the length of one enrollment or removal: it is never written anywhere, logged or put into an
 * error.
 */
export type SshAuth = { readonly password: string } | { readonly keyFile: string; readonly passphrase?: string } | { readonly agent: true; readonly socket?: string };

export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly auth: SshAuth;
  readonly hostKey: HostKeyPolicy;
  /** TCP connect + SSH handshake + authentication. */
  readonly connectTimeoutMs: number;
  /** Extra time the user has to answer `confirmHostKey` on first contact. */
  readonly confirmTimeoutMs: number;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly stdin?: string | Buffer;
  readonly timeoutMs: number;
  /** stdout beyond this is an error (the command is cut off): bounds are checked before buffering. */
  readonly maxStdoutBytes?: number;
}

const MAX_STDERR_BYTES = 64 * 1024;
const DEFAULT_MAX_STDOUT_BYTES = 1024 * 1024;

function authConfig(auth: SshAuth): Pick<ConnectConfig, 'password' | 'privateKey' | 'passphrase' | 'agent'> {
  if ('password' in auth) return { password: auth.password };
  if ('keyFile' in auth) {
    let privateKey: Buffer;
    try {
      privateKey = fs.readFileSync(auth.keyFile);
    } catch (e) {
      throw new ArmoryError('ENROLL_E_OPTIONS', `cannot read the SSH key file ${auth.keyFile}: ${(e as Error).message}`, { keyFile: auth.keyFile });
    }
    return auth.passphrase !== undefined ? { privateKey, passphrase: auth.passphrase } : { privateKey };
  }
  const socket = auth.socket ?? process.env.SSH_AUTH_SOCK;
  if (!socket) throw new ArmoryError('ENROLL_E_OPTIONS', 'ssh-agent authentication needs SSH_AUTH_SOCK (no ssh-agent is running for this session)');
  return { agent: socket };
}

function describeAuth(auth: SshAuth): string {
  if ('password' in auth) return 'password';
  if ('keyFile' in auth) return `key ${auth.keyFile}`;
  return 'ssh-agent';
}

/**
 * One SSH connection to a host, checked against its host key before anything is sent: commands
 * (each bounded in time and output) and SFTP. When the connection drops, every pending command
 * fails at once with ENROLL_E_CONNECT.
 */
export class SshSession {
  private closed = false;
  private readonly pending = new Set<(e: ArmoryError) => void>();
  private sftpChannel: Promise<SFTPWrapper> | null = null;

  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
    /** The host key's fingerprint, `SHA256:…`. */
    readonly hostKey: string,
    readonly hostKeyHow: 'pinned' | 'trusted' | 'confirmed',
  ) {
    client.on('close', () => this.lost('the SSH connection was closed'));
    client.on('error', (e: Error) => this.lost(`the SSH connection failed: ${e.message}`));
  }

  /** Connects, checks the host key, logs in; the error says which of those failed. */
  static open(target: SshTarget): Promise<SshSession> {
    const where = `${target.host}:${target.port}`;
    const client = new Client();
    return new Promise<SshSession>((resolve, reject) => {
      let seen: { fingerprint: string; how: 'pinned' | 'trusted' | 'confirmed' } | null = null;
      let keyError: ArmoryError | null = null;
      let settled = false;
      const fail = (e: ArmoryError) => {
        if (settled) return;
        settled = true;
        client.removeAllListeners();
        client.on('error', () => undefined);
        client.end();
        client.destroy();
        reject(e);
      };
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        client.removeAllListeners();
        if (seen === null) {
          client.destroy();
          reject(new ArmoryError('ENROLL_E_CONNECT', `${where} completed the handshake without a host key check`));
          return;
        }
        resolve(new SshSession(client, target, seen.fingerprint, seen.how));
      });
      client.on('error', (e: Error & { level?: string }) => {
        if (keyError) return fail(keyError);
        if (e.level === 'client-authentication') {
          return fail(new ArmoryError('ENROLL_E_AUTH', `${target.user}@${where} refused the login (${describeAuth(target.auth)})`, { host: target.host, user: target.user }));
        }
        if (e.level === 'client-timeout') {
          return fail(new ArmoryError('ENROLL_E_TIMEOUT', `no SSH login to ${where} within ${target.connectTimeoutMs}ms`, { host: target.host }));
        }
        if (e.level === 'agent') return fail(new ArmoryError('ENROLL_E_AUTH', `ssh-agent failed: ${e.message}`, { host: target.host }));
        fail(new ArmoryError('ENROLL_E_CONNECT', `cannot connect to ${where} over SSH: ${e.message}`, { host: target.host }));
      });
      client.on('close', () => fail(keyError ?? new ArmoryError('ENROLL_E_CONNECT', `${where} closed the SSH connection during login`, { host: target.host })));

      const config: ConnectConfig = {
        host: target.host,
        port: target.port,
        username: target.user,
        ...authConfig(target.auth),
        readyTimeout: target.connectTimeoutMs + (target.hostKey.confirm ? target.confirmTimeoutMs : 0),
        keepaliveInterval: 5000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
          const fingerprint = hostKeyFingerprint(key);
          void decideHostKey(fingerprint, target.hostKey, where).then((d) => {
            if (d.accept) seen = { fingerprint, how: d.how };
            else keyError = d.error;
            verify(d.accept);
          });
        },
      };
      try {
        client.connect(config);
      } catch (e) {
        const message = (e as Error).message;
        if (/passphrase/i.test(message)) fail(new ArmoryError('ENROLL_E_AUTH', `the SSH key cannot be decrypted: ${message}`));
        else if (/privateKey/i.test(message)) fail(new ArmoryError('ENROLL_E_OPTIONS', `the SSH key cannot be used: ${message}`));
        else fail(new ArmoryError('ENROLL_E_CONNECT', `cannot connect to ${where}: ${message}`));
      }
    });
  }

  get alive(): boolean {
    return !this.closed;
  }

  private lost(why: string): void {
    if (this.closed) return;
    this.closed = true;
    const e = new ArmoryError('ENROLL_E_CONNECT', `${why} (${this.target.host}:${this.target.port})`, { host: this.target.host });
    for (const reject of [...this.pending]) reject(e);
    this.pending.clear();
  }

  private guard<T>(work: (reject: (e: ArmoryError) => void) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ArmoryError('ENROLL_E_CONNECT', `the SSH connection to ${this.target.host} is closed`, { host: this.target.host }));
    let rejectLost!: (e: ArmoryError) => void;
    const lost = new Promise<never>((_, reject) => (rejectLost = reject));
    this.pending.add(rejectLost);
    return Promise.race([work(rejectLost), lost]).finally(() => this.pending.delete(rejectLost));
  }

  /** Runs one command line (as the login user's shell would) and collects its output, bounded. */
  exec(command: string, options: ExecOptions): Promise<ExecResult> {
    const maxOut = options.maxStdoutBytes ?? DEFAULT_MAX_STDOUT_BYTES;
    return this.guard(
      () =>
        new Promise<ExecResult>((resolve, reject) => {
          this.client.exec(command, (err: Error | undefined, stream: ClientChannel) => {
            if (err) {
              reject(new ArmoryError('ENROLL_E_COMMAND', `the host would not run a command: ${err.message}`, { host: this.target.host }));
              return;
            }
            const out: Buffer[] = [];
            const errs: Buffer[] = [];
            let outBytes = 0;
            let errBytes = 0;
            let done = false;
            const finish = (f: () => void) => {
              if (done) return;
              done = true;
              clearTimeout(timer);
              f();
            };
            const timer = setTimeout(
              () =>
                finish(() => {
                  stream.close();
                  reject(new ArmoryError('ENROLL_E_TIMEOUT', `a command on ${this.target.host} did not finish within ${options.timeoutMs}ms`, { host: this.target.host }));
                }),
              options.timeoutMs,
            );
            stream.on('data', (d: Buffer) => {
              outBytes += d.length;
              if (outBytes > maxOut) {
                finish(() => {
                  stream.close();
                  reject(new ArmoryError('ENROLL_E_COMMAND', `a command on ${this.target.host} printed more than ${maxOut} bytes`, { host: this.target.host }));
                });
                return;
              }
              out.push(d);
            });
            stream.stderr.on('data', (d: Buffer) => {
              if (errBytes + d.length <= MAX_STDERR_BYTES) errs.push(d);
              errBytes += d.length;
            });
            stream.on('error', () => undefined);
            stream.on('close', (code: number | null, signal?: string) =>
              finish(() =>
                resolve({
                  code: typeof code === 'number' ? code : null,
                  signal: signal ?? null,
                  stdout: Buffer.concat(out).toString('utf8'),
                  stderr: Buffer.concat(errs).toString('utf8'),
                }),
              ),
            );
            if (options.stdin !== undefined) stream.end(options.stdin);
            else stream.end();
          });
        }),
    );
  }

  /** The connection's SFTP channel, opened once. */
  sftp(): Promise<SFTPWrapper> {
    this.sftpChannel ??= this.guard(
      () =>
        new Promise<SFTPWrapper>((resolve, reject) =>
          this.client.sftp((err: Error | undefined, sftp: SFTPWrapper) =>
            err ? reject(new ArmoryError('ENROLL_E_UPLOAD', `the host offers no SFTP: ${err.message}`, { host: this.target.host })) : resolve(sftp),
          ),
        ),
    );
    return this.sftpChannel;
  }

  /** Runs `work` so that it fails at once (ENROLL_E_CONNECT) if the connection drops meanwhile. */
  whileConnected<T>(work: () => Promise<T>): Promise<T> {
    return this.guard(() => work());
  }

  close(): void {
    this.lost('the SSH connection was closed');
    this.client.end();
    this.client.destroy();
  }
}
