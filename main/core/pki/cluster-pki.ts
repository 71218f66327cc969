import { X509Certificate } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { writeFileAtomic } from '../../../common/node/fsync.js';
import type { CertificateAndKey } from './certificate-and-key.js';
import { checkName } from './certificate-fields.js';
import { certificateStanding, describeCertificate } from './certificate-info.js';
import { createClusterCa } from './cluster-ca.js';
import { keyMatchesPublicKey, parsePrivateKey } from './ecdsa-keys.js';
import { issueCertificate } from './issue-certificate.js';
import { CERTIFICATE_FILE_MODE, ensureOwnerOnlyDir, errno, loadSecretFile, saveSecretFile, type KeyWrapper } from './key-store.js';

/** The files of a cluster's PKI folder. */
export const CLUSTER_PKI_FILES = Object.freeze({ caCert: 'ca.pem', caKey: 'ca.key', managerCert: 'manager.pem', managerKey: 'manager.key' });

/** The node name the manager's certificate carries (`urn:armory:manager:manager`). */
export const MANAGER_CERTIFICATE_NAME = 'manager';

/** A manager certificate this close to its end is replaced at start-up. */
export const MANAGER_RENEW_BEFORE_DAYS = 30;

export interface ClusterPkiOptions {
  /** Used only when the CA is created. */
  clusterName: string;
  /** Default: the clock. */
  now?: Date;
}

export interface ClusterPki {
  readonly dir: string;
  readonly ca: CertificateAndKey;
  readonly manager: CertificateAndKey;
  /** What this call wrote: the CA on first run; the manager certificate on first run, when absent, or when renewed. */
  readonly created: Readonly<{ ca: boolean; manager: boolean }>;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch (e) {
    if (errno(e) === 'ENOENT') return false;
    throw new ArmoryError('PKI_E_IO', `cannot look at ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
}

async function readCertificate(file: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new ArmoryError('PKI_E_IO', `cannot read ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
}

async function saveCertificate(file: string, pem: string): Promise<void> {
  try {
    await writeFileAtomic(file, pem, CERTIFICATE_FILE_MODE);
  } catch (e) {
    throw new ArmoryError('PKI_E_IO', `cannot write ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
}

function checkPair(pair: CertificateAndKey, files: { cert: string; key: string }): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pair.certPem);
  } catch (e) {
    throw new ArmoryError('PKI_E_CERT_INVALID', `${files.cert} is not a certificate: ${(e as Error).message}`, { file: files.cert }, { cause: e });
  }
  if (!keyMatchesPublicKey(parsePrivateKey(pair.keyPem, files.key), cert.publicKey)) {
    throw new ArmoryError('PKI_E_KEY_MISMATCH', `${files.key} is not the key of ${files.cert}`, { file: files.key });
  }
  return cert;
}

/**
 * The cluster's CA and the manager's certificate, kept in `dir` (0700): ca.pem, ca.key,
 * manager.pem, manager.key. The first run creates them; later runs load and check them (each key
 * belongs to its certificate, the manager certificate comes from this CA), and a manager
 * certificate that has expired or is within MANAGER_RENEW_BEFORE_DAYS of it is reissued.
 *
 * It never creates a CA when any file of an earlier one is there: a new CA would orphan every
 * enrolled node. A missing or unusable key next to its certificate is a coded error instead.
 */
export async function loadOrCreateClusterPki(dir: string, wrapper: KeyWrapper, options: ClusterPkiOptions): Promise<ClusterPki> {
  const o = Object.freeze({ clusterName: checkName(options.clusterName, 'cluster'), now: options.now ?? new Date() });
  const at = (name: string) => path.join(dir, name);
  const f = Object.freeze({
    caCert: at(CLUSTER_PKI_FILES.caCert),
    caKey: at(CLUSTER_PKI_FILES.caKey),
    managerCert: at(CLUSTER_PKI_FILES.managerCert),
    managerKey: at(CLUSTER_PKI_FILES.managerKey),
  });
  await ensureOwnerOnlyDir(dir, { tighten: true });
  const present = {
    caCert: await exists(f.caCert),
    caKey: await exists(f.caKey),
    managerCert: await exists(f.managerCert),
    managerKey: await exists(f.managerKey),
  };

  let ca: CertificateAndKey;
  const createdCa = !present.caCert && !present.caKey;
  if (createdCa) {
    if (present.managerCert || present.managerKey) {
      throw new ArmoryError('PKI_E_CERT_MISSING', `${dir} holds manager files but no cluster CA (${CLUSTER_PKI_FILES.caCert}); refusing to create a new CA next to them`, { dir });
    }
    ca = await createClusterCa({ clusterName: o.clusterName, now: o.now });
    await saveSecretFile(f.caKey, ca.keyPem, wrapper);
    await saveCertificate(f.caCert, ca.certPem);
  } else if (!present.caCert) {
    throw new ArmoryError('PKI_E_CERT_MISSING', `${f.caCert} is missing but ${f.caKey} exists; refusing to create a new CA, which would orphan every enrolled node`, {
      file: f.caCert,
    });
  } else {
    const certPem = await readCertificate(f.caCert);
    let keyPem: string;
    try {
      keyPem = await loadSecretFile(f.caKey, wrapper);
    } catch (e) {
      if (e instanceof ArmoryError && e.code === 'PKI_E_KEY_MISSING') {
        throw new ArmoryError('PKI_E_KEY_MISSING', `${f.caKey} is missing but ${f.caCert} exists; restore the key (a new CA would orphan every enrolled node)`, { file: f.caKey });
      }
      throw e;
    }
    ca = Object.freeze({ certPem, keyPem });
    if (!checkPair(ca, { cert: f.caCert, key: f.caKey }).ca) throw new ArmoryError('PKI_E_CERT_INVALID', `${f.caCert} is not a CA certificate`, { file: f.caCert });
  }

  let manager: CertificateAndKey | null = null;
  if (present.managerCert || present.managerKey) {
    if (!present.managerCert) throw new ArmoryError('PKI_E_CERT_MISSING', `${f.managerCert} is missing but ${f.managerKey} exists`, { file: f.managerCert });
    const loaded = Object.freeze({ certPem: await readCertificate(f.managerCert), keyPem: await loadSecretFile(f.managerKey, wrapper) });
    checkPair(loaded, { cert: f.managerCert, key: f.managerKey });
    const standing = certificateStanding(loaded.certPem, ca.certPem, o.now);
    if (standing === 'not-issued-by-ca' || standing === 'unreadable') {
      throw new ArmoryError('PKI_E_CERT_INVALID', `${f.managerCert} was not issued by the cluster CA in ${f.caCert}`, { file: f.managerCert });
    }
    const described = describeCertificate(loaded.certPem);
    if (described.role !== 'manager') throw new ArmoryError('PKI_E_CERT_INVALID', `${f.managerCert} is not a manager certificate`, { file: f.managerCert });
    const renewBy = described.notAfter.getTime() - MANAGER_RENEW_BEFORE_DAYS * 86_400_000;
    if (standing === 'valid' && o.now.getTime() < renewBy) manager = loaded;
  }
  const issuedManager = manager === null;
  if (manager === null) {
    manager = await issueCertificate(ca, { role: 'manager', name: MANAGER_CERTIFICATE_NAME, now: o.now });
    await saveSecretFile(f.managerKey, manager.keyPem, wrapper);
    await saveCertificate(f.managerCert, manager.certPem);
  }
  return Object.freeze({ dir, ca, manager, created: Object.freeze({ ca: createdCa, manager: issuedManager }) });
}
