import { randomBytes } from 'node:crypto';
import { NAME_PATTERN } from '../../../common/config/names.js';
import { ArmoryError } from '../../../common/errors/armory-error.js';

/** How far back notBefore reaches, so that a peer whose clock is a little behind accepts a new certificate. */
export const CLOCK_SKEW_MS = 5 * 60_000;

const DAY_MS = 86_400_000;
const MAX_DAYS = 36_500;

/** A random, positive, 16-byte serial number as hex (RFC 5280 allows up to 20 bytes). */
export function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes.writeUInt8((bytes.readUInt8(0) & 0x7f) || 0x01, 0);
  return bytes.toString('hex');
}

/** notBefore = now − 5 min, notAfter = now + days; whole seconds, as X.509 times hold. */
export function validityWindow(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
    throw new ArmoryError('PKI_E_OPTIONS', `validity must be a whole number of days from 1 to ${MAX_DAYS}, not ${days}`, { days });
  }
  const t = now.getTime();
  if (!Number.isFinite(t)) throw new ArmoryError('PKI_E_OPTIONS', 'the issuing time is not a valid date');
  const second = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
  return { notBefore: second(t - CLOCK_SKEW_MS), notAfter: second(t + days * DAY_MS) };
}

/** Cluster, node and manager names follow the NAME_PATTERN of the configuration. */
export function checkName(value: string, what: string): string {
  if (!NAME_PATTERN.test(value)) {
    throw new ArmoryError('PKI_E_NAME', `${JSON.stringify(value)} is not a valid ${what} name: 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit`, {
      [what]: value,
    });
  }
  return value;
}
