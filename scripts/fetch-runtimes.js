#!/usr/bin/env node
// Brings the per-architecture parts of the agent bundle that npm does not install on this machine
// (npm installs only this machine's architecture): the Node runtime (npm package node-linux-<arch>)
// and koffi's prebuilt library (@koromix/koffi-linux-<arch>), for every architecture a node may
// have. Versions and sha512 integrity come from package-lock.json, so what is shipped is exactly
// what the lock names; a tarball whose checksum differs is refused. They land in
// assets/runtimes/node_modules/ (not committed), where enrollment and packaging look for them.
//
//   node scripts/fetch-runtimes.js [--arch x64|arm64]...   (default: both)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
export const RUNTIMES_DIR = path.join(ROOT, 'assets', 'runtimes', 'node_modules');
const ARCHES = ['x64', 'arm64'];

/** The packages a node of `arch` needs beyond the bundle itself. */
export const archPackages = (arch) => [`node-linux-${arch}`, `@koromix/koffi-linux-${arch}`];

/** Version and integrity of a package as package-lock.json pins it. */
export function lockedPackage(name, lockFile = path.join(ROOT, 'package-lock.json')) {
  const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
  const entry = lock.packages?.[`node_modules/${name}`];
  if (!entry?.version || !entry?.integrity) throw new Error(`package-lock.json does not pin ${name} (add it to optionalDependencies and run npm install)`);
  return { name, version: entry.version, integrity: entry.integrity };
}

/** True when the file's sha512 equals the `sha512-…` integrity string. */
export function matchesIntegrity(file, integrity) {
  const [algo, expected] = integrity.split('-', 2);
  if (algo !== 'sha512' || !expected) throw new Error(`unsupported integrity ${integrity}`);
  return createHash('sha512').update(fs.readFileSync(file)).digest('base64') === expected;
}

function installedVersion(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** Fetches one package into RUNTIMES_DIR unless it is already there (or npm installed it) at the locked version. */
export function fetchPackage(pkg, log = console.log) {
  if (installedVersion(path.join(ROOT, 'node_modules', pkg.name)) === pkg.version) return 'installed by npm';
  const dest = path.join(RUNTIMES_DIR, pkg.name);
  if (installedVersion(dest) === pkg.version) return 'already here';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-runtime-'));
  try {
    const out = execFileSync('npm', ['pack', `${pkg.name}@${pkg.version}`, '--pack-destination', tmp, '--json', '--silent'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const tarball = path.join(tmp, JSON.parse(out)[0].filename);
    if (!matchesIntegrity(tarball, pkg.integrity)) throw new Error(`${pkg.name}@${pkg.version}: the tarball's sha512 differs from package-lock.json; refusing it`);
    const staging = path.join(tmp, 'x');
    fs.mkdirSync(staging);
    execFileSync('tar', ['-xzf', tarball, '-C', staging, '--strip-components=1', '--no-same-owner']);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.renameSync(staging, dest);
    log(`${pkg.name}@${pkg.version} → ${path.relative(ROOT, dest)}`);
    return 'fetched';
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function main(argv) {
  const arches = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--arch' && ARCHES.includes(argv[i + 1])) arches.push(argv[++i]);
    else {
      console.error(`usage: fetch-runtimes.js [--arch ${ARCHES.join('|')}]...   (not: ${argv[i]})`);
      return 2;
    }
  }
  for (const arch of arches.length > 0 ? arches : ARCHES) {
    for (const name of archPackages(arch)) fetchPackage(lockedPackage(name));
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
