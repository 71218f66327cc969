import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { writeFileAtomic } from '../../../common/node/fsync.js';

/**
 * The seam through which private keys reach the disk. The default stores them as they are (in an
 * owner-only file); the desktop app plugs in Electron safeStorage, i.e. the OS keychain.
 */
export interface KeyWrapper {
  wrap(plain: Buffer): Promise<Buffer>;
  unwrap(stored: Buffer): Promise<Buffer>;
  /** Names the wrapper in errors and logs, e.g. 'plain' or 'safe-storage'. */
  readonly kind: string;
}

/** The first line of a key file sealed with the OS keychain by the desktop app (keychain-key-wrapper.ts). */
export const KEYCHAIN_MAGIC = Buffer.from('ARMORY-KEYCHAIN-SEALED-1\n', 'utf8');

/** Stores keys unchanged: the PEM on disk is what node:tls and openssl read. */
export const plainKeyWrapper: KeyWrapper = Object.freeze({
  kind: 'plain',
  wrap: (plain: Buffer) => Promise.resolve(Buffer.from(plain)),
  unwrap: (stored: Buffer) =>
    stored.subarray(0, KEYCHAIN_MAGIC.length).equals(KEYCHAIN_MAGIC)
      ? Promise.reject(new Error('it is sealed with the OS keychain by the Armory desktop app: use the desktop app (or remove the manager home to start over)'))
      : Promise.resolve(Buffer.from(stored)),
});

export const SECRET_FILE_MODE = 0o600;
export const SECRET_DIR_MODE = 0o700;
export const CERTIFICATE_FILE_MODE = 0o644;

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----/;

export function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** Makes `dir` (and missing parents) owner-only; an existing looser folder is tightened or refused. */
export async function ensureOwnerOnlyDir(dir: string, options: { tighten: boolean }): Promise<void> {
  let st: Stats;
  try {
    await fsp.mkdir(dir, { recursive: true, mode: SECRET_DIR_MODE });
    st = await fsp.stat(dir);
  } catch (e) {
    throw new ArmoryError('PKI_E_IO', `cannot create the folder ${dir}: ${(e as Error).message}`, { dir }, { cause: e });
  }
  if (!st.isDirectory()) throw new ArmoryError('PKI_E_IO', `${dir} is not a folder`, { dir });
  if ((st.mode & 0o077) === 0) return;
  if (!options.tighten) {
    throw new ArmoryError('PKI_E_UNSAFE_PERMISSIONS', `${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}); keys go only into owner-only (0700) folders`, {
      dir,
    });
  }
  try {
    await fsp.chmod(dir, SECRET_DIR_MODE);
  } catch (e) {
    throw new ArmoryError('PKI_E_UNSAFE_PERMISSIONS', `cannot make ${dir} owner-only: ${(e as Error).message}`, { dir }, { cause: e });
  }
}

/**
 * Writes a private key through `wrapper` into an owner-only (0600) file, atomically and durably
 * (temp file → fsync → rename → fsync of the folder). A missing folder is created 0700; an existing
 * one open to other users is refused (PKI_E_UNSAFE_PERMISSIONS), not silently changed.
 */
export async function saveSecretFile(file: string, pem: string, wrapper: KeyWrapper): Promise<void> {
  await ensureOwnerOnlyDir(path.dirname(path.resolve(file)), { tighten: false });
  let stored: Buffer;
  try {
    stored = await wrapper.wrap(Buffer.from(pem, 'utf8'));
  } catch (e) {
    throw new ArmoryError('PKI_E_KEY_WRAP', `cannot wrap the key for ${file} (${wrapper.kind}): ${(e as Error).message}`, { file, wrapper: wrapper.kind }, { cause: e });
  }
  try {
    await writeFileAtomic(file, stored, SECRET_FILE_MODE);
  } catch (e) {
    throw new ArmoryError('PKI_E_IO', `cannot write ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
}

/**
 * Reads a private key written by saveSecretFile and returns its PEM. Missing: PKI_E_KEY_MISSING; open
 * to other users: PKI_E_UNSAFE_PERMISSIONS; the wrapper refuses it: PKI_E_KEY_WRAP; not PEM after
 * unwrapping: PKI_E_KEY_INVALID.
 */
export async function loadSecretFile(file: string, wrapper: KeyWrapper): Promise<string> {
  let stored: Buffer;
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    if (errno(e) === 'ENOENT') throw new ArmoryError('PKI_E_KEY_MISSING', `the key file ${file} is missing`, { file });
    throw new ArmoryError('PKI_E_IO', `cannot read ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new ArmoryError('PKI_E_KEY_INVALID', `${file} is not a file`, { file });
    if ((st.mode & 0o077) !== 0) {
      throw new ArmoryError('PKI_E_UNSAFE_PERMISSIONS', `the key file ${file} is open to other users (mode ${(st.mode & 0o777).toString(8)}); it must be 0600`, { file });
    }
    stored = await fh.readFile();
  } catch (e) {
    if (e instanceof ArmoryError) throw e;
    throw new ArmoryError('PKI_E_IO', `cannot read ${file}: ${(e as Error).message}`, { file }, { cause: e });
  } finally {
    await fh.close();
  }
  let plain: Buffer;
  try {
    plain = await wrapper.unwrap(stored);
  } catch (e) {
    throw new ArmoryError('PKI_E_KEY_WRAP', `cannot unwrap ${file} (${wrapper.kind}): ${(e as Error).message}`, { file, wrapper: wrapper.kind }, { cause: e });
  }
  const pem = plain.toString('utf8');
  if (!PEM_BLOCK.test(pem)) throw new ArmoryError('PKI_E_KEY_INVALID', `${file} does not hold a PEM key (wrapper ${wrapper.kind})`, { file, wrapper: wrapper.kind });
  return pem;
}
