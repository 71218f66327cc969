import type { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { enrollNode, type EnrollmentResult } from './enrollment/enroll-node.js';
import type { EnrollOptions, HostAccessOptions } from './enrollment/enrollment-options.js';
import { removeNode, type RemovalResult } from './enrollment/remove-node.js';
import type { ProgressEvent } from './enrollment/step-runner.js';
import type { NodeRecord } from './inventory/inventory-schema.js';
import type { Manager } from './manager.js';

export type RemoteAccess = Omit<HostAccessOptions, 'pinnedHostKey'>;

/** The certificate an agent presents, read with the manager's own credentials (for the inventory). */
function agentCertificate(manager: Manager, host: string, port: number): Promise<X509Certificate | null> {
  const pki = manager.pkiMaterial;
  return new Promise((resolve) => {
    const s = tls.connect({ host, port, ca: pki.ca.certPem, cert: pki.manager.certPem, key: pki.manager.keyPem, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
    const done = (c: X509Certificate | null) => {
      s.destroy();
      resolve(c);
    };
    s.once('secureConnect', () => done(s.getPeerX509Certificate() ?? null));
    s.once('error', () => done(null));
    s.setTimeout(5000, () => done(null));
  });
}

/**
 * Enrolls a Linux host over SSH and records it: the host key is pinned (a later enrollment or
 * removal must see the same one), the profile and install plan are kept, and the current signed
 * configuration is pushed to the new node.
 */
export async function enrollRemoteNode(
  manager: Manager,
  access: RemoteAccess,
  options: Pick<EnrollOptions, 'agentPort' | 'bundleDir' | 'runtime' | 'service' | 'requirements' | 'agentListen'>,
  onProgress: (e: ProgressEvent) => void,
): Promise<EnrollmentResult> {
  const existing = manager.inventory.data.nodes[access.node];
  const pki = manager.pkiMaterial;
  const result = await enrollNode(
    { ...access, ...options, ...(existing?.hostKey ? { pinnedHostKey: existing.hostKey } : {}), ca: pki.ca, manager: pki.manager },
    onProgress,
  );
  if (!result.ok) return result;
  const agentPort = options.agentPort ?? 7443;
  const cert = await agentCertificate(manager, access.host, agentPort);
  const record: NodeRecord = {
    address: access.host,
    agentPort,
    hostKey: result.hostKey,
    sshUser: access.user,
    sshPort: access.port ?? 22,
    profile: { ...result.profile },
    certificateFingerprint: cert?.fingerprint256 ?? '',
    certificateExpires: cert ? new Date(cert.validTo).toISOString() : '',
    enrolledAt: new Date().toISOString(),
    install: { ...result.plan, installRoot: access.installRoot ?? '' },
    lastEventSeq: existing?.lastEventSeq ?? 0,
  };
  await manager.inventory.update((d) => (d.nodes[access.node] = record));
  await manager.pushTo(access.node);
  return result;
}

/** Undoes an enrollment over SSH (the pinned host key must match) and forgets the node. */
export async function removeRemoteNode(manager: Manager, access: Omit<RemoteAccess, 'node' | 'host' | 'port' | 'user'> & { node: string; user?: string }, onProgress: (e: ProgressEvent) => void): Promise<RemovalResult> {
  const rec = manager.node(access.node);
  if (rec.hostKey === null) throw new ArmoryError('MANAGER_E_UNKNOWN_NODE', `${access.node} was not enrolled over SSH`);
  const installRoot = typeof rec.install.installRoot === 'string' ? rec.install.installRoot : '';
  const result = await removeNode(
    { ...access, host: rec.address, port: rec.sshPort ?? 22, user: access.user ?? rec.sshUser ?? 'root', pinnedHostKey: rec.hostKey, installRoot, userUnit: rec.install.service === 'systemd-user' },
    onProgress,
  );
  if (result.ok) {
    await manager.inventory.update((d) => {
      delete d.nodes[access.node];
    });
  }
  return result;
}
