import { createPrivateKey, createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { x509 } from './x509-library.js';

/** Every key of the cluster: ECDSA on P-256, signatures with SHA-256. */
export const ECDSA_P256 = Object.freeze({ name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' });

/** Node's WebCrypto, handed to @peculiar/x509 explicitly rather than through its global provider. */
export const nodeWebCrypto = webcrypto;

export function generateEcdsaKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return nodeWebCrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
}

export async function privateKeyToPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await nodeWebCrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** Parses a PEM private key (PKCS#8 or SEC1) with node:crypto; a bad one is PKI_E_KEY_INVALID. */
export function parsePrivateKey(keyPem: string, what: string): KeyObject {
  try {
    return createPrivateKey(keyPem);
  } catch (e) {
    throw new ArmoryError('PKI_E_KEY_INVALID', `${what} is not a private key: ${(e as Error).message}`, { what }, { cause: e });
  }
}

/** The CA's P-256 private key as a WebCrypto signing key. */
export async function importSigningKey(keyPem: string, what: string): Promise<webcrypto.CryptoKey> {
  const key = parsePrivateKey(keyPem, what);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ArmoryError('PKI_E_KEY_INVALID', `${what} is not an ECDSA P-256 key`, { what });
  }
  const der = key.export({ type: 'pkcs8', format: 'der' });
  return nodeWebCrypto.subtle.importKey('pkcs8', der, ECDSA_P256, false, ['sign']);
}

/** True when the private key is the one whose public half the certificate carries. */
export function keyMatchesPublicKey(privateKey: KeyObject, publicKey: KeyObject): boolean {
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  return spki(createPublicKey(privateKey)).equals(spki(publicKey));
}
