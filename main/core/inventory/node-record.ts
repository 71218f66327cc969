import { describeCertificate } from '../pki/certificate-info.js';
import type { NodeRecord } from './inventory-schema.js';

/** The inventory entry of a node whose agent runs with `certPem` but that was not enrolled over SSH (the local node, test hosts). */
export function certifiedNodeRecord(o: { address: string; agentPort: number; certPem: string; install: Record<string, unknown>; lastEventSeq?: number }): NodeRecord {
  const desc = describeCertificate(o.certPem);
  return {
    address: o.address,
    agentPort: o.agentPort,
    hostKey: null,
    sshUser: null,
    sshPort: null,
    profile: null,
    certificateFingerprint: desc.fingerprintSha256,
    certificateExpires: desc.notAfter.toISOString(),
    enrolledAt: new Date().toISOString(),
    install: o.install,
    lastEventSeq: o.lastEventSeq ?? 0,
  };
}
