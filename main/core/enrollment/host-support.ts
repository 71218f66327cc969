import { nodeMajor, type HostProfile } from './host-profile.js';

/** The least a host needs to run the agent. */
export interface HostRequirements {
  /** Free space on the install folder's filesystem, in MB. */
  readonly minFreeDiskMb: number;
  /** The oldest Node major version the agent runs on. */
  readonly minNodeMajor: number;
}

export const DEFAULT_HOST_REQUIREMENTS: HostRequirements = Object.freeze({ minFreeDiskMb: 200, minNodeMajor: 20 });

export type HostSupport = { readonly supported: true } | { readonly supported: false; readonly reasons: readonly string[] };

/**
 * Whether the agent can run on a host, and if not every reason why, worded for the person who
 * has to fix it. Pure: the profile was taken before.
 */
export function checkHostSupport(profile: HostProfile, requirements: HostRequirements): HostSupport {
  const reasons: string[] = [];
  if (profile.os !== 'Linux') reasons.push(`the host runs ${profile.os}, and the agent runs on Linux only`);
  if (profile.arch === null) reasons.push(`the processor is ${profile.machine}; the agent is built for x86_64 (x64) and aarch64 (arm64) only`);
  if (profile.libc === 'musl') reasons.push('the host uses the musl C library (Alpine and the like); the agent and its Node runtime need glibc');
  else if (profile.libc === 'unknown') reasons.push('cannot tell which C library the host uses (no ldd, no dynamic loader found); the agent needs glibc');
  if (!profile.root && !profile.sudo && !profile.userSystemd) {
    reasons.push(
      'the login user is not root, cannot use sudo without a password and has no systemd user manager; log in as root, allow passwordless sudo, or give the user a systemd user manager (loginctl enable-linger USER)',
    );
  }
  if (profile.freeDiskMb < requirements.minFreeDiskMb) {
    reasons.push(`only ${profile.freeDiskMb} MB are free on ${profile.diskPath || 'the install filesystem'}; the agent needs ${requirements.minFreeDiskMb} MB`);
  }
  if (profile.missingCommands.length > 0) reasons.push(`the host lacks commands enrollment needs: ${profile.missingCommands.join(', ')}`);
  return reasons.length === 0 ? { supported: true } : { supported: false, reasons: Object.freeze(reasons) };
}

/**
 * True when the host's own Node can run the agent, so that no runtime has to be shipped. The agent
 * runs as root: a Node that another user could replace (in a home folder, say) is not used.
 */
export function hostNodeUsable(profile: HostProfile, requirements: HostRequirements): boolean {
  if (profile.node === null || !profile.node.rootOwned) return false;
  const major = nodeMajor(profile.node.version);
  return major !== null && major >= requirements.minNodeMajor && profile.node.path.startsWith('/');
}
