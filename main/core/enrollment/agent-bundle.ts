import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import type { HostArch } from './host-profile.js';

/** One file of what is uploaded: from a local file or generated; `path` is relative to the install folder. */
export interface BundleFile {
  readonly path: string;
  readonly source: { readonly file: string } | { readonly content: Buffer };
  readonly size: number;
  readonly sha256: string;
  readonly mode: number;
}

export interface AgentBundle {
  readonly arch: HostArch;
  readonly files: readonly BundleFile[];
  /** Folders to create, relative to the install folder, parents first. */
  readonly dirs: readonly string[];
  readonly totalBytes: number;
  readonly withRuntime: boolean;
}

/** The agent runs as an ES module: the install folder's package.json says so. */
export const BUNDLE_PACKAGE_JSON = `${JSON.stringify({ name: 'armory-agent-bundle', private: true, type: 'module' }, null, 2)}\n`;

const MAX_TREE_FILES = 2000;

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    fs.createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Checksums of large files (the Node runtime) are kept per path, size and mtime: a manager enrolling ten hosts hashes it once. */
const checksumCache = new Map<string, string>();

async function localFile(local: string, remote: string, mode?: number): Promise<BundleFile> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(local);
  } catch {
    throw new ArmoryError('ENROLL_E_BUNDLE', `the agent bundle lacks ${local}`, { file: local });
  }
  const key = `${local}\0${st.size}\0${st.mtimeMs}`;
  let sha256 = checksumCache.get(key);
  if (sha256 === undefined) {
    sha256 = await sha256File(local);
    checksumCache.set(key, sha256);
  }
  return Object.freeze({ path: remote, source: Object.freeze({ file: local }), size: st.size, sha256, mode: mode ?? (st.mode & 0o111 ? 0o755 : 0o644) });
}

function generated(remote: string, text: string): BundleFile {
  const content = Buffer.from(text, 'utf8');
  return Object.freeze({ path: remote, source: Object.freeze({ content }), size: content.length, sha256: createHash('sha256').update(content).digest('hex'), mode: 0o644 });
}

/** Every regular file under `dir`, relative paths, sorted; symbolic links and special files are skipped. */
function walk(dir: string): string[] {
  const out: string[] = [];
  const pending = [''];
  while (pending.length > 0) {
    const rel = pending.shift() as string;
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) pending.push(r);
      else if (e.isFile()) out.push(r);
      if (out.length > MAX_TREE_FILES) throw new ArmoryError('ENROLL_E_BUNDLE', `${dir} holds more than ${MAX_TREE_FILES} files; is it the right folder?`);
    }
  }
  return out.sort();
}

function requireDir(dir: string, hint: string): void {
  if (!fs.existsSync(dir)) throw new ArmoryError('ENROLL_E_BUNDLE', `${dir} is missing: ${hint}`, { dir });
}

/**
 * Where a per-architecture package is: npm installs this machine's own in node_modules;
 * `npm run runtimes` (scripts/fetch-runtimes.js) brings the other architectures' into
 * assets/runtimes/node_modules, checked against package-lock.json.
 */
function archPackageDir(bundleDir: string, name: string, what: string): string {
  const places = [path.join(bundleDir, 'node_modules', name), path.join(bundleDir, 'assets', 'runtimes', 'node_modules', name)];
  const found = places.find((d) => fs.existsSync(d));
  if (found) return found;
  throw new ArmoryError('ENROLL_E_BUNDLE', `${what} (npm package ${name}) is not on this machine: run \`npm run runtimes\` to fetch it (looked in ${places.join(' and ')})`, { package: name });
}

/**
 * What goes onto a host of `arch`: the agent bundle (dist/agent.js, the poll worker and the checkpoint clients), koffi
 * with its prebuilt library for that architecture (koffi is kept out of the bundle because it
 * loads its native library from next to its own files), a package.json that makes the folder an
 * ES module package and, when asked, a Node runtime from the npm
 * package node-linux-<arch>. A part that is missing here is ENROLL_E_BUNDLE, naming the package.
 */
export async function collectAgentBundle(bundleDir: string, arch: HostArch, options: { withRuntime: boolean }): Promise<AgentBundle> {
  const nm = path.join(bundleDir, 'node_modules');
  const files: BundleFile[] = [];
  for (const f of ['agent.js', 'poll-worker.js', 'armory-checkpoint.js', 'checkpoint-client.js']) {
    const local = path.join(bundleDir, 'dist', f);
    if (!fs.existsSync(local)) throw new ArmoryError('ENROLL_E_BUNDLE', `${local} is missing: build the agent first (npm run build)`, { file: local });
    files.push(await localFile(local, `dist/${f}`, 0o644));
  }
  const koffi = path.join(nm, 'koffi');
  requireDir(koffi, 'install the dependencies (npm ci)');
  for (const rel of walk(koffi)) files.push(await localFile(path.join(koffi, rel), `node_modules/koffi/${rel}`, 0o644));
  const prebuilt = archPackageDir(bundleDir, `@koromix/koffi-linux-${arch}`, `koffi's prebuilt library for linux-${arch}`);
  for (const rel of walk(prebuilt)) files.push(await localFile(path.join(prebuilt, rel), `node_modules/@koromix/koffi-linux-${arch}/${rel}`, 0o644));
  if (options.withRuntime) {
    const runtime = archPackageDir(bundleDir, `node-linux-${arch}`, `the host needs a Node runtime for linux-${arch}, and it`);
    files.push(await localFile(path.join(runtime, 'bin', 'node'), 'runtime/bin/node', 0o755));
    if (fs.existsSync(path.join(runtime, 'LICENSE'))) files.push(await localFile(path.join(runtime, 'LICENSE'), 'runtime/LICENSE', 0o644));
  }
  files.push(generated('package.json', BUNDLE_PACKAGE_JSON));

  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return Object.freeze({
    arch,
    files: Object.freeze(files),
    dirs: Object.freeze([...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b))),
    totalBytes: files.reduce((n, f) => n + f.size, 0),
    withRuntime: options.withRuntime,
  });
}
