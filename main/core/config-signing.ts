import { createPrivateKey, sign } from 'node:crypto';
import type { ConfigPayload, SignedConfig } from '../../common/wire/signed-config.js';

/** The manager's signing identity: its certificate (sent along) and private key. */
export interface Signer {
  certPem: string;
  keyPem: string;
}

/**
 * Signs one version of the configuration: the payload (version, time, cluster, the YAML text) is
 * serialised once and those exact bytes are signed with the manager's key (ECDSA P-256, SHA-256).
 */
export function signConfig(payload: ConfigPayload, signer: Signer): SignedConfig {
  const text = JSON.stringify(payload);
  const signature = sign('sha256', Buffer.from(text, 'utf8'), createPrivateKey(signer.keyPem)).toString('base64');
  return { format: 'armory-signed-config/1', payload: text, signature, signer: signer.certPem };
}
