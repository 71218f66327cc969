import path from 'node:path';
import { isIP } from 'node:net';
import { NAME_PATTERN } from '../../../common/config/names.js';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import type { CertificateAndKey } from '../pki/certificate-and-key.js';
import { normaliseFingerprint } from './host-key.js';
import { DEFAULT_HOST_REQUIREMENTS, type HostRequirements } from './host-support.js';
import { remoteLayout, type RemoteLayout } from './remote-layout.js';
import type { SshAuth, SshTarget } from './ssh-session.js';

/** Where to reach a host and how to log in: shared by enrollment and removal. */
export interface HostAccessOptions {
  /** The node's name in the cluster (its certificate says `urn:armory:agent:<node>`). */
  node: string;
  host: string;
  /** SSH port; default 22. */
  port?: number;
  user: string;
  auth: SshAuth;
  /** The fingerprint pinned at an earlier enrollment (`SHA256:…`); a different key is refused (ENROLL_E_HOST_KEY_CHANGED). */
  pinnedHostKey?: string;
  /** A fingerprint the caller trusts without asking (e.g. `--trust`). */
  trust?: string;
  /** Asked on first contact when there is neither a pinned nor a trusted fingerprint. */
  confirmHostKey?: (fingerprint: string) => Promise<boolean>;
  /** '' (default): the real /opt, /var/lib and /etc. Tests and hosts sharing one filesystem give a folder of their own. */
  installRoot?: string;
  timeouts?: Partial<EnrollmentTimeouts>;
}

export interface EnrollmentTimeouts {
  /** TCP connect, SSH handshake and login. */
  connectMs: number;
  /** How long the user may take to confirm a new host key. */
  confirmMs: number;
  /** The whole upload of the bundle. */
  uploadMs: number;
  /** From starting the agent until it answers over mutual TLS. */
  agentStartMs: number;
}

export const DEFAULT_TIMEOUTS: EnrollmentTimeouts = Object.freeze({ connectMs: 15_000, confirmMs: 120_000, uploadMs: 600_000, agentStartMs: 30_000 });

export interface EnrollOptions extends HostAccessOptions {
  /** The cluster CA: issues the node's certificate; its certificate goes to the node as ca.pem. */
  ca: CertificateAndKey;
  /** The manager's certificate and key: the enrollment ends with a `hello` to the agent as the manager. */
  manager: CertificateAndKey;
  /** The agent's mutual-TLS port; default 7443. */
  agentPort?: number;
  /** The address the agent listens on; default 0.0.0.0 (every interface). */
  agentListen?: string;
  /** The repository (bundle) root: dist/, node_modules/ and assets/ are taken from it. */
  bundleDir: string;
  /** 'auto' (default): ship the Node runtime only when the host lacks Node >= 20; 'bundled': always ship it. */
  runtime?: 'auto' | 'bundled';
  /**
   * 'auto' (default): a system unit where PID 1 is systemd (and installRoot is ''), else the keeper,
   * both as root; a user unit ('systemd-user', in the login user's home) when the login user is
   * neither root nor a sudoer but has a systemd user manager.
   */
  service?: 'auto' | 'systemd' | 'systemd-user' | 'keeper';
  requirements?: Partial<HostRequirements>;
}

export interface RemoveOptions extends HostAccessOptions {
  /** The node was installed as a systemd user unit (the inventory says so): everything is in the login user's home and is removed as that user. */
  userUnit?: boolean;
  /** How long the agent may take to stop its programs on shutdown before what is left is killed. */
  shutdownTimeoutMs?: number;
}

function need(ok: boolean, message: string): void {
  if (!ok) throw new ArmoryError('ENROLL_E_OPTIONS', message);
}

function port(value: number | undefined, dflt: number, what: string): number {
  const p = value ?? dflt;
  need(Number.isInteger(p) && p >= 1 && p <= 65535, `${what} must be a port number from 1 to 65535, not ${value}`);
  return p;
}

function checkAuth(auth: SshAuth): SshAuth {
  need(typeof auth === 'object' && auth !== null, 'auth must be { password }, { keyFile, passphrase? } or { agent: true }');
  if ('password' in auth) need(typeof auth.password === 'string' && auth.password.length > 0 && auth.password.length <= 4096, 'the password must be a non-empty string');
  else if ('keyFile' in auth) need(typeof auth.keyFile === 'string' && auth.keyFile.length > 0, 'keyFile must name the private key file');
  else need('agent' in auth && auth.agent === true, 'auth must be { password }, { keyFile, passphrase? } or { agent: true }');
  return auth;
}

function timeouts(t: Partial<EnrollmentTimeouts> | undefined): EnrollmentTimeouts {
  const merged = { ...DEFAULT_TIMEOUTS, ...(t ?? {}) };
  for (const [k, v] of Object.entries(merged)) need(Number.isInteger(v) && v > 0 && v <= 3_600_000, `timeouts.${k} must be a whole number of milliseconds up to an hour`);
  return Object.freeze(merged);
}

/** Host access options, checked once and frozen, with every default filled in. */
export interface NormalisedAccess {
  readonly node: string;
  readonly target: SshTarget;
  readonly layout: RemoteLayout;
  readonly timeouts: EnrollmentTimeouts;
}

export function normaliseAccess(o: HostAccessOptions): NormalisedAccess {
  need(typeof o.node === 'string' && NAME_PATTERN.test(o.node), `${JSON.stringify(o.node)} is not a valid node name: 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit`);
  need(typeof o.host === 'string' && /^[A-Za-z0-9.:_-]{1,253}$/.test(o.host), `${JSON.stringify(o.host)} is not a host name or address`);
  need(typeof o.user === 'string' && /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/.test(o.user), `${JSON.stringify(o.user)} is not a user name`);
  const t = timeouts(o.timeouts);
  const target: SshTarget = Object.freeze({
    host: o.host,
    port: port(o.port, 22, 'port'),
    user: o.user,
    auth: checkAuth(o.auth),
    hostKey: Object.freeze({
      pinned: o.pinnedHostKey !== undefined ? normaliseFingerprint(o.pinnedHostKey, 'pinnedHostKey') : null,
      trust: o.trust !== undefined ? normaliseFingerprint(o.trust, 'trust') : null,
      confirm: o.confirmHostKey ?? null,
    }),
    connectTimeoutMs: t.connectMs,
    confirmTimeoutMs: t.confirmMs,
  });
  return Object.freeze({ node: o.node, target, layout: remoteLayout(o.installRoot ?? ''), timeouts: t });
}

export interface NormalisedEnrollOptions extends NormalisedAccess {
  readonly ca: CertificateAndKey;
  readonly manager: CertificateAndKey;
  readonly agentPort: number;
  readonly listen: string;
  readonly bundleDir: string;
  readonly runtime: 'auto' | 'bundled';
  readonly service: 'auto' | 'systemd' | 'systemd-user' | 'keeper';
  readonly requirements: HostRequirements;
}

export function normaliseEnrollOptions(o: EnrollOptions): NormalisedEnrollOptions {
  const access = normaliseAccess(o);
  need(typeof o.ca?.certPem === 'string' && typeof o.ca.keyPem === 'string', 'ca must hold the cluster CA certificate and key (PEM)');
  need(typeof o.manager?.certPem === 'string' && typeof o.manager.keyPem === 'string', "manager must hold the manager's certificate and key (PEM)");
  need(typeof o.bundleDir === 'string' && path.isAbsolute(o.bundleDir), 'bundleDir must be the absolute path of the Armory repository (bundle) root');
  const listenHost = o.agentListen ?? '0.0.0.0';
  need(isIP(listenHost) !== 0, `agentListen must be an IP address to listen on, not ${JSON.stringify(listenHost)}`);
  const agentPort = port(o.agentPort, 7443, 'agentPort');
  const runtime = o.runtime ?? 'auto';
  need(runtime === 'auto' || runtime === 'bundled', "runtime must be 'auto' or 'bundled'");
  const service = o.service ?? 'auto';
  need(service === 'auto' || service === 'systemd' || service === 'systemd-user' || service === 'keeper', "service must be 'auto', 'systemd', 'systemd-user' or 'keeper'");
  need(!(service === 'systemd' && access.layout.root !== ''), "service 'systemd' installs a real unit: it cannot be combined with an installRoot");
  const requirements = Object.freeze({ ...DEFAULT_HOST_REQUIREMENTS, ...(o.requirements ?? {}) });
  need(Number.isFinite(requirements.minFreeDiskMb) && requirements.minFreeDiskMb >= 0, 'requirements.minFreeDiskMb must be a number of MB');
  return Object.freeze({
    ...access,
    ca: o.ca,
    manager: o.manager,
    agentPort,
    listen: `${isIP(listenHost) === 6 ? `[${listenHost}]` : listenHost}:${agentPort}`,
    bundleDir: o.bundleDir,
    runtime,
    service,
    requirements,
  });
}
