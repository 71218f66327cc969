import { verify, X509Certificate } from 'node:crypto';
import type { ArmoryConfig } from '../../common/config/document.js';
import { formatProblems, parseConfigText } from '../../common/config/load.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { configPayloadSchema, signedConfigSchema, type ConfigPayload, type SignedConfig } from '../../common/wire/signed-config.js';
import { identityOf, issuedBy } from './peer-identity.js';

export interface VerifiedConfig {
  envelope: SignedConfig;
  payload: ConfigPayload;
  config: ArmoryConfig;
}

/**
 * Checks a signed configuration before the agent keeps or acts on it: the envelope's shape, that
 * the signer's certificate comes from this cluster's CA and names a manager, that the signature
 * covers the payload, that the version is newer than `currentVersion` (no replay of an older one),
 * and that the configuration itself is valid. Each refusal has its own code.
 */
export function verifySignedConfig(raw: unknown, caPem: string, currentVersion: number, options: { allowSame?: boolean } = {}): VerifiedConfig {
  const env = signedConfigSchema.safeParse(raw);
  if (!env.success) throw new ArmoryError('AGENT_E_CONFIG_UNSIGNED', `not a signed configuration: ${env.error.issues[0]?.message ?? 'invalid'}`);
  let signer: X509Certificate;
  let ca: X509Certificate;
  try {
    signer = new X509Certificate(env.data.signer);
    ca = new X509Certificate(caPem);
  } catch {
    throw new ArmoryError('AGENT_E_CONFIG_SIGNER', 'the signer certificate cannot be read');
  }
  if (!issuedBy(signer, ca)) throw new ArmoryError('AGENT_E_CONFIG_SIGNER', `the configuration was signed by "${signer.subject.replace(/\n/g, ', ')}", which is not a valid certificate of this cluster`);
  if (identityOf(signer)?.role !== 'manager') throw new ArmoryError('AGENT_E_CONFIG_SIGNER', 'the signer certificate is not a manager certificate');
  const ok = verify('sha256', Buffer.from(env.data.payload, 'utf8'), signer.publicKey, Buffer.from(env.data.signature, 'base64'));
  if (!ok) throw new ArmoryError('AGENT_E_CONFIG_SIGNATURE', 'the configuration signature does not verify (altered or signed with another key)');
  let json: unknown;
  try {
    json = JSON.parse(env.data.payload);
  } catch {
    throw new ArmoryError('WIRE_E_MALFORMED', 'the signed payload is not JSON');
  }
  const payload = configPayloadSchema.safeParse(json);
  if (!payload.success) throw new ArmoryError('WIRE_E_MALFORMED', `the signed payload is malformed: ${payload.error.issues[0]?.message ?? 'invalid'}`);
  const v = payload.data.version;
  if (v < currentVersion || (v === currentVersion && !options.allowSame)) {
    throw new ArmoryError('AGENT_E_CONFIG_STALE', `configuration version ${v} is not newer than version ${currentVersion}, which this agent runs`, { version: v, current: currentVersion });
  }
  const parsed = parseConfigText(payload.data.yaml);
  if (!parsed.ok) throw new ArmoryError('CONFIG_E_INVALID', `configuration version ${v} is invalid:\n${formatProblems(parsed.problems, `version ${v}`)}`, { problems: parsed.problems });
  return { envelope: env.data, payload: payload.data, config: parsed.config };
}
