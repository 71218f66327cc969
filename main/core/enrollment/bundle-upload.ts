import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import type { AgentBundle, BundleFile } from './agent-bundle.js';
import { makeDirScript, parseMadeDirs, removeEmptyDirsScript } from './remote-dirs.js';
import type { RemoteShell } from './remote-shell.js';
import { shellQuote } from '../../../common/node/shell-quote.js';

/**
 * What an upload did so far, filled in as it goes, so that its undo takes away exactly that even
 * when the upload stopped half-way (or the connection dropped in the middle of it).
 */
export interface UploadRecord {
  /** The install folder existed before (a second enrollment): it is kept aside, not removed. */
  installExisted: boolean | null;
  madeDirs: string[];
  /** Where the new bundle is assembled: INSTALL.new-XXXX, next to the install folder. */
  staging: string | null;
  /** With sudo: the login user's own temporary folder the files go to first. */
  userTemp: string | null;
  /** Where the previous installation is kept until the enrollment succeeds: INSTALL.old-XXXX. */
  previous: string | null;
}

export function emptyUploadRecord(): UploadRecord {
  return { installExisted: null, madeDirs: [], staging: null, userTemp: null, previous: null };
}

const PARALLEL_FILES = 4;
const TRANSFER = Object.freeze({ concurrency: 32, chunkSize: 32 * 1024 });

function sftpCall(what: string, fn: (cb: (err: Error | null | undefined) => void) => void): Promise<void> {
  return new Promise((resolve, reject) =>
    fn((err) => (err ? reject(new ArmoryError('ENROLL_E_UPLOAD', `${what}: ${err.message}`, { what })) : resolve())),
  );
}

function putFile(sftp: SFTPWrapper, f: BundleFile, remote: string, onBytes: (n: number) => void): Promise<void> {
  if ('content' in f.source) {
    const content = f.source.content;
    return sftpCall(`uploading ${f.path}`, (cb) => sftp.writeFile(remote, content, { mode: f.mode }, cb)).then(() => onBytes(f.size));
  }
  let reported = 0;
  const local = f.source.file;
  return sftpCall(`uploading ${f.path}`, (cb) =>
    sftp.fastPut(
      local,
      remote,
      {
        ...TRANSFER,
        mode: f.mode,
        step: (transferred) => {
          onBytes(transferred - reported);
          reported = transferred;
        },
      },
      cb,
    ),
  ).then(() => onBytes(f.size - reported));
}

/** The checksum list `sha256sum -c` reads: one `HEX  ./path` line per file. */
export function checksumList(bundle: AgentBundle): string {
  return bundle.files.map((f) => `${f.sha256}  ./${f.path}\n`).join('');
}

/**
 * Run as root with the checksum list on stdin: every file must match and no other file may be
 * there; only then is the previous installation (if any) moved aside and the new one moved in.
 */
export function verifyAndSwapScript(staging: string, installDir: string, previous: string | null, fileCount: number): string {
  const q = shellQuote;
  return [
    `cd ${q(staging)} || exit 1`,
    'if ! out=$(sha256sum -c --quiet --strict - 2>&1); then printf "%s\\n" "$out" | grep -v "^sha256sum: WARNING" | head -n 5 >&2; exit 4; fi',
    `n=$(find . -type f | wc -l); if [ "$n" -ne ${fileCount} ]; then echo "the host holds $n files where ${fileCount} were sent" >&2; exit 4; fi`,
    'cd / || exit 1',
    `${previous ? `rm -rf ${q(previous)} && mv ${q(installDir)} ${q(previous)} && ` : ''}mv ${q(staging)} ${q(installDir)}`,
  ].join('\n');
}

/**
 * Uploads the bundle with SFTP into a staging folder next to the install folder (with sudo: into
 * the user's own temporary folder first, then moved there as root and handed to root), checks
 * every file's SHA-256 on the host, and only then swaps it in, keeping a previous installation
 * aside for the undo. `onBytes` sees the bytes sent as they go.
 */
export async function uploadBundle(shell: RemoteShell, bundle: AgentBundle, installDir: string, record: UploadRecord, onBytes: (sent: number) => void): Promise<{ replaced: boolean }> {
  const q = shellQuote;
  const suffix = randomBytes(4).toString('hex');
  const staging = `${installDir}.new-${suffix}`;
  // SFTP writes as the login user: straight into place when that user owns the installation (root, or a user unit's own user).
  const direct = shell.asRoot === 'root' || shell.asRoot === 'user';
  // One command: was there an installation, which parent folders had to be made, and (as root) the staging folder.
  if (direct) record.staging = staging;
  const prepared = await shell.run(
    [
      `if [ -e ${q(installDir)} ]; then echo existed=yes; else echo existed=no; fi`,
      makeDirScript(path.posix.dirname(installDir), '0755'),
      ...(direct ? ['echo', `rm -rf ${q(staging)} && mkdir -m 0755 ${q(staging)}`] : []),
    ].join('\n'),
    { privileged: true },
  );
  const lines = prepared.stdout.split('\n');
  // Unknown (the answer was lost) stays null: the undo then leaves the install folder alone.
  record.installExisted = lines[0] === 'existed=yes' ? true : lines[0] === 'existed=no' ? false : null;
  record.madeDirs.push(...parseMadeDirs(lines.slice(1).join('\n')));
  if (prepared.code !== 0) throw new ArmoryError('ENROLL_E_UPLOAD', `cannot create ${installDir}: ${prepared.stderr.trim().split('\n').slice(-3).join(' ')}`);
  const installExisted = record.installExisted;
  if (installExisted === null) throw new ArmoryError('ENROLL_E_UPLOAD', `cannot tell whether ${installDir} existed`);

  let uploadDir = staging;
  if (!direct) {
    uploadDir = (await shell.user('creating a temporary folder', 'mktemp -d "${TMPDIR:-/tmp}/armory-upload.XXXXXXXX"')).trim();
    if (!/^\/[A-Za-z0-9._/-]+$/.test(uploadDir)) throw new ArmoryError('ENROLL_E_UPLOAD', `mktemp gave an unexpected folder: ${JSON.stringify(uploadDir)}`);
    record.userTemp = uploadDir;
  }

  const sftp = await shell.session.sftp();
  const session = shell.session;
  for (const d of bundle.dirs) {
    await session.whileConnected(() => sftpCall(`creating ${d}`, (cb) => sftp.mkdir(`${uploadDir}/${d}`, { mode: 0o755 }, cb)));
  }
  let sent = 0;
  const queue = [...bundle.files].sort((a, b) => b.size - a.size);
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      const file = f;
      await session.whileConnected(() =>
        putFile(sftp, file, `${uploadDir}/${file.path}`, (n) => {
          sent += n;
          onBytes(sent);
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_FILES }, worker));

  if (record.userTemp !== null) {
    record.staging = staging;
    await shell.root('moving the upload into place', `rm -rf ${q(staging)} && mv ${q(record.userTemp)} ${q(staging)} && chown -R 0:0 ${q(staging)} && chmod 0755 ${q(staging)}`);
    record.userTemp = null;
  }

  const previous = installExisted ? `${installDir}.old-${suffix}` : null;
  record.previous = previous;
  const swapped = await shell.run(verifyAndSwapScript(staging, installDir, previous, bundle.files.length), { privileged: true, stdin: checksumList(bundle), timeoutMs: 120_000 });
  if (swapped.code === 4) throw new ArmoryError('ENROLL_E_UPLOAD', `the uploaded bundle does not match what was sent: ${swapped.stderr.trim().split('\n').join('; ')}`);
  if (swapped.code !== 0) throw new ArmoryError('ENROLL_E_UPLOAD', `cannot put the bundle in place: ${swapped.stderr.trim().split('\n').slice(-3).join(' ')}`);
  record.staging = null;
  return { replaced: installExisted };
}

/** Takes back what uploadBundle did, however far it got: the new files go, a previous installation comes back. */
export async function undoUpload(shell: RemoteShell, installDir: string, record: UploadRecord): Promise<void> {
  const q = shellQuote;
  const lines = [
    ...(record.staging ? [`rm -rf ${q(record.staging)}`] : []),
    ...(record.userTemp ? [`rm -rf ${q(record.userTemp)}`] : []),
    ...(record.previous
      ? [`if [ -e ${q(record.previous)} ]; then rm -rf ${q(installDir)} && mv ${q(record.previous)} ${q(installDir)}; fi`]
      : record.installExisted === false
        ? [`rm -rf ${q(installDir)}`]
        : []),
    removeEmptyDirsScript(record.madeDirs),
  ];
  await shell.root('removing the uploaded bundle', lines.join('\n'));
}

/** After a successful enrollment: the previous installation kept aside is no longer needed. */
export async function commitUpload(shell: RemoteShell, record: UploadRecord): Promise<void> {
  if (record.previous) await shell.root('removing the previous bundle', `rm -rf ${shellQuote(record.previous)}`);
}
