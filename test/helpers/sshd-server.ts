import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './wait.js';

const SSHD = '/usr/sbin/sshd';

/** A TCP port nothing listens on right now (the kernel picks it). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The fingerprint ssh-keygen prints for a public key file: `SHA256:…`. */
export function sshKeygenFingerprint(pubFile: string): string {
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' });
  const m = /(SHA256:[A-Za-z0-9+/]+)/.exec(out);
  if (!m) throw new Error(`ssh-keygen printed no fingerprint: ${out}`);
  return m[1] as string;
}

function keygen(file: string, passphrase: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'armory-test', '-f', file], { stdio: 'ignore' });
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * A private OpenSSH server for one test file: listening on 127.0.0.1 only, on a free port, with
 * its own host key, configuration, authorized_keys and pid file in a temporary folder. The system
 * sshd (port 22) is never touched. Root may log in by key; password login is on for the test user.
 */
export class TestSshd {
  /** Unencrypted key, for the ssh-agent. */
  readonly agentKey: string;
  /** Key protected by `clientKeyPassphrase`. */
  readonly clientKey: string;
  readonly clientKeyPassphrase = 'armory test passphrase';
  hostKeyFingerprint = '';
  output = '';
  private proc: ChildProcess | null = null;

  private constructor(
    readonly dir: string,
    readonly port: number,
    /** The address it listens on (127.0.0.1, or a test host's address inside its namespace). */
    readonly address: string,
    private readonly netns: string | null,
  ) {
    this.clientKey = path.join(dir, 'client_key');
    this.agentKey = path.join(dir, 'agent_key');
  }

  /** On 127.0.0.1 at a free port, or (`host`) inside a test host's network namespace at its address, port 22. */
  static async start(host?: { netns: string; address: string }): Promise<TestSshd> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-sshd-'));
    const sshd = host ? new TestSshd(dir, 22, host.address, host.netns) : new TestSshd(dir, await freeTcpPort(), '127.0.0.1', null);
    try {
      keygen(sshd.clientKey, sshd.clientKeyPassphrase);
      keygen(sshd.agentKey, '');
      fs.writeFileSync(path.join(dir, 'authorized_keys'), [sshd.clientKey, sshd.agentKey].map((k) => fs.readFileSync(`${k}.pub`, 'utf8')).join(''), { mode: 0o600 });
      fs.writeFileSync(
        path.join(dir, 'sshd_config'),
        [
          `ListenAddress ${sshd.address}`,
          `PidFile ${path.join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
          'PermitRootLogin yes',
          'PubkeyAuthentication yes',
          'PasswordAuthentication yes',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          // The key files live under /tmp, which is world-writable: strict modes would refuse them.
          'StrictModes no',
          'Subsystem sftp internal-sftp',
          'MaxSessions 32',
          'MaxStartups 64',
          'LogLevel VERBOSE',
          '',
        ].join('\n'),
      );
      // The privilege separation folder the Debian package's service would create.
      fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
      await sshd.launch();
      return sshd;
    } catch (e) {
      await sshd.stop();
      throw e;
    }
  }

  private hostKey = '';

  private async launch(options: { newHostKey: boolean } = { newHostKey: true }): Promise<void> {
    if (options.newHostKey || !this.hostKey) {
      this.hostKey = path.join(this.dir, `host_key_${randomBytes(3).toString('hex')}`);
      keygen(this.hostKey, '');
    }
    const hostKey = this.hostKey;
    this.hostKeyFingerprint = sshKeygenFingerprint(`${hostKey}.pub`);
    const argv = [SSHD, '-D', '-e', '-f', path.join(this.dir, 'sshd_config'), '-p', String(this.port), '-h', hostKey];
    // `ip netns exec` execs sshd in place: the child's pid is the server's own.
    const [command, ...args] = this.netns ? ['ip', 'netns', 'exec', this.netns, ...argv] : argv;
    const proc = spawn(command as string, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    });
    this.proc = proc;
    await waitFor(
      'the test sshd to greet',
      () =>
        new Promise<boolean>((resolve) => {
          if (proc.exitCode !== null) throw new Error(`sshd exited with ${proc.exitCode}: ${this.output}`);
          const s = net.connect(this.port, this.address);
          s.once('data', (d: Buffer) => {
            s.destroy();
            resolve(d.toString().startsWith('SSH-2.0'));
          });
          s.once('error', () => resolve(false));
        }),
      { timeoutMs: 10_000, everyMs: 50 },
    );
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /** Restarts the server on the same port with a new host key, as a reinstalled (or impersonated) host would present. */
  async rotateHostKey(): Promise<string> {
    await this.stopListener();
    await this.launch();
    return this.hostKeyFingerprint;
  }

  /** The whole server dies (listener and every connection, SIGKILL), as when the host goes down. */
  crash(): void {
    this.killSessions();
    this.proc?.kill('SIGKILL');
  }

  /** Starts the server again with the same host key after crash(). */
  async restart(): Promise<void> {
    await this.stopListener();
    await this.launch({ newHostKey: false });
  }

  /** SIGKILLs every connection's server process (the listener stays): each client sees its connection drop. */
  killSessions(): number {
    const pid = this.proc?.pid;
    if (!pid) return 0;
    const sessions = childrenOf(pid);
    for (const p of sessions) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    return sessions.length;
  }

  private async stopListener(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    this.killSessions();
    proc.kill('SIGTERM');
    await waitFor('sshd to exit', () => proc.exitCode !== null || proc.signalCode !== null, { timeoutMs: 5000 }).catch(() => proc.kill('SIGKILL'));
    this.proc = null;
  }

  async stop(): Promise<void> {
    await this.stopListener();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An ssh-agent of our own (foreground, by pid) holding one key. */
export class TestSshAgent {
  private constructor(
    readonly socket: string,
    private readonly proc: ChildProcess,
  ) {}

  static async start(dir: string, keyFile: string): Promise<TestSshAgent> {
    const socket = path.join(dir, `agent-${randomBytes(3).toString('hex')}.sock`);
    const proc = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    const agent = new TestSshAgent(socket, proc);
    try {
      await waitFor('ssh-agent to listen', () => fs.existsSync(socket), { timeoutMs: 5000 });
      execFileSync('ssh-add', ['-q', keyFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      return agent;
    } catch (e) {
      await agent.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      await waitFor('ssh-agent to exit', () => this.proc.exitCode !== null || this.proc.signalCode !== null, { timeoutMs: 5000 }).catch(() => this.proc.kill('SIGKILL'));
    }
    fs.rmSync(this.socket, { force: true });
  }
}

/**
 * A local user that logs in with a password and has passwordless sudo, as a host administered
 * through sudo would have: created for the test and removed after it (with its sudoers entry).
 */
export class TestSudoUser {
  private constructor(
    readonly name: string,
    readonly password: string,
  ) {}

  /** `sudo: false` makes a plain user (no sudoers entry), as a host with no way to root would have. */
  static create(name: string, options: { sudo: boolean } = { sudo: true }): TestSudoUser {
    const password = randomBytes(12).toString('base64url');
    try {
      execFileSync('id', [name], { stdio: 'ignore' });
    } catch {
      execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', name], { stdio: 'ignore' });
    }
    execFileSync('chpasswd', [], { input: `${name}:${password}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
    if (options.sudo) fs.writeFileSync(`/etc/sudoers.d/${name}`, `${name} ALL=(root) NOPASSWD: ALL\n`, { mode: 0o440 });
    return new TestSudoUser(name, password);
  }

  remove(): void {
    fs.rmSync(`/etc/sudoers.d/${this.name}`, { force: true });
    // A login of the user may still be winding down (its sshd session): end its processes, by pid.
    try {
      const pids = execFileSync('ps', ['-o', 'pid=', '-u', this.name], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((p) => p > 0);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
    } catch {
      // none left (ps exits 1 when nothing matches)
    }
    try {
      execFileSync('userdel', ['--remove', this.name], { stdio: 'ignore' });
    } catch {
      // The test reports leftovers itself.
    }
  }
}
