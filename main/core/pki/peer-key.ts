import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { writeFileAtomic } from '../../../common/node/fsync.js';

/**
 * The cluster's peer key: 32 random bytes that authenticate heartbeats between agents (HMAC-SHA256).
 * Created once next to the cluster CA, readable by the owner only, delivered to each agent with the
 * signed configuration over mutual TLS, and never written into the configuration document.
 */
export async function loadOrCreatePeerKey(pkiDir: string): Promise<Buffer> {
  const file = path.join(pkiDir, 'peer.key');
  if (fs.existsSync(file)) {
    const key = fs.readFileSync(file);
    if (key.length !== 32) throw new ArmoryError('PKI_E_KEY_INVALID', `${file} does not hold a 32-byte peer key`);
    return key;
  }
  const key = randomBytes(32);
  fs.mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, key, 0o600);
  return key;
}
