import { createHash, type Hash } from 'node:crypto';
import fs, { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { fsyncDir } from '../../common/node/fsync.js';
import { APPEND_BASE_BYTES, relPathSchema, type MirrorApplyResult, type MirrorFile } from '../../common/wire/mirror-wire.js';
import { SharedRounds } from './shared-rounds.js';
import { writeFully } from '../../common/node/write-fully.js';

/** The staging folder a receiver keeps inside the copy (same file system, so renames are atomic). */
export const STAGING = '.armory-mirror';

/** A change as a target applies it: like the wire's MirrorOp, with the bytes decoded. */
export type TargetOp =
  | { kind: 'put'; rel: string; version: string; offset: number; total: number; data: Uint8Array; final?: { sha256: string; mode: number; mtimeMs: number } }
  | { kind: 'append'; rel: string; offset: number; base: string; data: Uint8Array; final?: { size: number; mode: number; mtimeMs: number } }
  | { kind: 'remove'; rel: string }
  | { kind: 'rename'; from: string; to: string }
  | { kind: 'mkdir'; rel: string }
  | { kind: 'symlink'; rel: string; target: string };

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

/** Checks a relative path and joins it to the root, refusing anything that would leave it. */
export function insideRoot(root: string, rel: string): string {
  if (!relPathSchema.safeParse(rel).success || rel === STAGING || rel.startsWith(`${STAGING}/`)) {
    throw new ArmoryError('MIRROR_E_PATH', `${JSON.stringify(rel.slice(0, 200))} is not a plain path inside the folder`, { rel: rel.slice(0, 200) });
  }
  return path.join(root, rel);
}

/** True when a symbolic link at `rel` with this target stays inside the folder. */
export function linkStaysInside(rel: string, target: string): boolean {
  if (path.isAbsolute(target) || target.includes('\0')) return false;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
  return resolved !== '..' && !resolved.startsWith('../') && !path.isAbsolute(resolved);
}

/**
 * The file system a copy must be on (a local target's disk, by device id): whatever the receiver
 * creates is checked to be on it, so that a disk unmounted in the middle of a copy leaves nothing
 * on the bare mount point below it.
 */
export interface DeviceGuard {
  dev: number;
}

const gone = (what: string) => new ArmoryError('MIRROR_E_TARGET_DOWN', `${what} is no longer on the target's disk (unmounted?)`);

/**
 * Applies mirrored changes to a copy of a folder: a file arrives in chunks into a staging file
 * (resumable: a chunk at the wrong offset is answered with how much is staged), is checked against
 * its SHA-256, fsynced and renamed into place, and the folder fsynced. Paths never leave the root
 * and never pass through a symbolic link. Chunks of one staged file are applied one at a time.
 * A file that only grew arrives as appends: written in place, and only onto a copy whose size and
 * last bytes are what the sender expects (anything else is answered `mismatch`, never guessed at).
 */
export class MirrorReceiver {
  private readonly hashes = new Map<string, { hash: Hash; at: number }>();
  /** Folder fsyncs shared between callers: one that starts after a caller's rename covers it. */
  private readonly folders = new SharedRounds<string, void>((dir) => fsyncDir(dir));
  private readonly staged = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {}

  /** Throws MIRROR_E_TARGET_DOWN when `p` is missing or on another device than the guard's. */
  private async onDisk(p: string, guard: DeviceGuard | undefined): Promise<void> {
    if (!guard) return;
    const st = await fsp.lstat(p).catch(() => null);
    if (st?.dev !== guard.dev) throw gone(p);
  }

  /** Makes one folder (its parent exists); with a guard, one made off the disk is taken away again. */
  private async makeDir(dir: string, mode: number, guard: DeviceGuard | undefined): Promise<void> {
    await fsp.mkdir(dir, { mode }).catch((e: NodeJS.ErrnoException) => {
      // Another copy into the same new folder made it first.
      if (e.code === 'EEXIST') return;
      // With a guard, a parent that is gone is a disk that is gone.
      throw guard && e.code === 'ENOENT' ? gone(path.dirname(dir)) : e;
    });
    if (!guard) return;
    const st = await fsp.lstat(dir).catch(() => null);
    if (st?.dev === guard.dev) return;
    if (st?.isDirectory()) await fsp.rmdir(dir).catch(() => undefined);
    throw gone(dir);
  }

  private staging(rel: string, version: string): { dir: string; file: string; prefix: string } {
    const dir = path.join(this.root, STAGING);
    const prefix = `${sha1(rel).slice(0, 20)}-`;
    return { dir, file: path.join(dir, `${prefix}${sha1(version).slice(0, 12)}.part`), prefix };
  }

  /** Creates the parent folders of `rel`, refusing to pass through a symbolic link. */
  private async parentOf(rel: string, guard: DeviceGuard | undefined): Promise<string> {
    const parts = rel.split('/').slice(0, -1);
    let dir = this.root;
    for (const p of parts) {
      dir = path.join(dir, p);
      const st = await fsp.lstat(dir).catch(() => null);
      if (st?.isSymbolicLink()) throw new ArmoryError('MIRROR_E_SYMLINK_OUTSIDE', `${path.relative(this.root, dir)} is a symbolic link; nothing is written through it`);
      if (guard && st && st.dev !== guard.dev) throw gone(dir);
      if (st && !st.isDirectory()) await fsp.rm(dir, { force: true });
      if (!st || !st.isDirectory()) await this.makeDir(dir, 0o755, guard);
    }
    return dir;
  }

  /** Whether the parent folders of `rel` are all there (none is created); never through a symbolic link. */
  private async parentsThere(rel: string, guard: DeviceGuard | undefined): Promise<boolean> {
    let dir = this.root;
    for (const part of rel.split('/').slice(0, -1)) {
      dir = path.join(dir, part);
      const st = await fsp.lstat(dir).catch(() => null);
      if (st?.isSymbolicLink()) throw new ArmoryError('MIRROR_E_SYMLINK_OUTSIDE', `${path.relative(this.root, dir)} is a symbolic link; nothing is written through it`);
      if (!st?.isDirectory()) return false;
      if (guard && st.dev !== guard.dev) throw gone(dir);
    }
    return true;
  }

  /**
   * Applies one change. With a guard (a local target), everything it creates must be on the
   * guard's device: the root is never created here, and a staged file or folder found on another
   * device (the disk was unmounted meanwhile) is removed again and the change refused as
   * MIRROR_E_TARGET_DOWN.
   */
  async apply(op: TargetOp, guard?: DeviceGuard): Promise<MirrorApplyResult> {
    try {
      return await this.applyNow(op, guard);
    } catch (e) {
      if (e instanceof ArmoryError) throw e;
      const err = e as NodeJS.ErrnoException;
      throw new ArmoryError('MIRROR_E_IO', `${op.kind} ${'rel' in op ? op.rel : op.from}: ${err.message}`, { errno: err.code ?? null });
    }
  }

  private async applyNow(op: TargetOp, guard: DeviceGuard | undefined): Promise<MirrorApplyResult> {
    switch (op.kind) {
      case 'put':
        return this.inTurn(op.rel, () => this.put(op, guard));
      case 'append':
        return this.inTurn(op.rel, () => this.append(op, guard));
      case 'remove': {
        const p = insideRoot(this.root, op.rel);
        await this.onDisk(this.root, guard);
        await fsp.rm(p, { recursive: true, force: true });
        await fsyncDir(path.dirname(p)).catch(() => undefined);
        return {};
      }
      case 'rename': {
        const from = insideRoot(this.root, op.from);
        const to = insideRoot(this.root, op.to);
        await this.onDisk(this.root, guard);
        // The old name must be there (its folders are not made for it: the sender copies instead).
        if (!(await this.parentsThere(op.from, guard))) throw new ArmoryError('MIRROR_E_IO', `rename ${op.from}: not on the target`, { errno: 'ENOENT' });
        await this.parentOf(op.to, guard);
        await fsp.rename(from, to);
        await fsyncDir(path.dirname(to));
        if (path.dirname(from) !== path.dirname(to)) await fsyncDir(path.dirname(from));
        return {};
      }
      case 'mkdir': {
        const p = insideRoot(this.root, op.rel);
        await this.onDisk(this.root, guard);
        await this.parentOf(op.rel, guard);
        const st = await fsp.lstat(p).catch(() => null);
        if (st && !st.isDirectory()) await fsp.rm(p, { force: true });
        if (!st?.isDirectory()) await this.makeDir(p, 0o755, guard);
        return {};
      }
      case 'symlink': {
        const p = insideRoot(this.root, op.rel);
        if (!linkStaysInside(op.rel, op.target)) throw new ArmoryError('MIRROR_E_SYMLINK_OUTSIDE', `${op.rel} → ${op.target} leads outside the folder`);
        const dir = await this.parentOf(op.rel, guard);
        const tmp = path.join(dir, `.${path.basename(p)}.armory-link-${process.pid}`);
        await fsp.rm(tmp, { force: true });
        await fsp.symlink(op.target, tmp);
        const made = await fsp.lstat(tmp).catch(() => null);
        if (guard && made?.dev !== guard.dev) {
          await fsp.rm(tmp, { force: true });
          throw gone(dir);
        }
        await fsp.rename(tmp, p);
        await fsyncDir(dir);
        return {};
      }
    }
  }

  /**
   * One chunk (put or append) at a time per file: a chunk still arriving on a connection given up
   * for broken must not be appended beside the same chunk resent on the new one.
   */
  private inTurn(key: string, job: () => Promise<MirrorApplyResult>): Promise<MirrorApplyResult> {
    const prev = this.staged.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(job);
    this.staged.set(key, next);
    void next.catch(() => undefined).finally(() => this.staged.get(key) === next && this.staged.delete(key));
    return next;
  }

  private async put(op: Extract<TargetOp, { kind: 'put' }>, guard: DeviceGuard | undefined): Promise<MirrorApplyResult> {
    const dest = insideRoot(this.root, op.rel);
    const st = this.staging(op.rel, op.version);
    if (guard) {
      // Never below a root that is gone: the staging folder is made inside the root only (its
      // parent must exist), and must be on the guard's disk.
      if ((await fsp.lstat(st.dir).catch(() => null))?.dev !== guard.dev) await this.makeDir(st.dir, 0o700, guard);
    } else await fsp.mkdir(st.dir, { recursive: true, mode: 0o700 });
    const have = (await fsp.stat(st.file).catch(() => null))?.size ?? 0;
    if (op.offset !== have) {
      if (have === 0 && op.offset > 0) {
        // Another version's parts are stale now.
        for (const f of await fsp.readdir(st.dir)) if (f.startsWith(st.prefix)) await fsp.rm(path.join(st.dir, f), { force: true });
      }
      return { have };
    }
    if (have + op.data.length > op.total) throw new ArmoryError('MIRROR_E_IO', `${op.rel}: more bytes than the file's ${op.total}`);
    if (op.offset === 0) {
      for (const f of await fsp.readdir(st.dir)) if (f.startsWith(st.prefix) && path.join(st.dir, f) !== st.file) await fsp.rm(path.join(st.dir, f), { force: true });
    }
    const fh = await fsp.open(st.file, 'a', 0o600);
    try {
      if (guard) {
        const fst = await fh.stat();
        if (fst.dev !== guard.dev) {
          // Created on whatever is under the mount point now: take it away again.
          const there = await fsp.lstat(st.file).catch(() => null);
          if (there?.ino === fst.ino && there.dev === fst.dev) await fsp.rm(st.file, { force: true });
          throw gone(st.file);
        }
      }
      if (op.data.length > 0) await writeFully(fh, op.data);
      let h = this.hashes.get(st.file);
      if (!h || h.at !== have) h = { hash: createHash('sha256'), at: 0 };
      if (h.at === have) h.hash.update(op.data);
      h.at = have + op.data.length;
      this.hashes.set(st.file, h);
      if (!op.final) return { have: have + op.data.length };
      if (h.at !== op.total) return { have: have + op.data.length };
      await fh.sync();
    } finally {
      await fh.close();
    }
    let sum = (this.hashes.get(st.file) as { hash: Hash }).hash.digest('hex');
    this.hashes.delete(st.file);
    if (sum !== op.final.sha256) sum = await fileSha256(st.file);
    if (sum !== op.final.sha256) {
      await fsp.rm(st.file, { force: true });
      throw new ArmoryError('MIRROR_E_CHECKSUM', `${op.rel}: the received copy does not match its checksum; sending it again`);
    }
    await fsp.chmod(st.file, op.final.mode & 0o7777);
    const mtime = new Date(op.final.mtimeMs);
    await fsp.utimes(st.file, mtime, mtime);
    const dir = await this.parentOf(op.rel, guard);
    const existing = await fsp.lstat(dest).catch(() => null);
    if (existing?.isDirectory()) await fsp.rm(dest, { recursive: true, force: true });
    // The staged file is on the guard's disk (checked above) and a rename never crosses file
    // systems: a folder that is not on it any more fails the rename (EXDEV, ENOENT).
    await this.onDisk(dir, guard);
    await fsp.rename(st.file, dest);
    await this.folders.run(dir);
    return { have: op.total };
  }

  /** Appends in place to the copy of a file, if it is what the sender expects (else `mismatch`). */
  private async append(op: Extract<TargetOp, { kind: 'append' }>, guard: DeviceGuard | undefined): Promise<MirrorApplyResult> {
    const dest = insideRoot(this.root, op.rel);
    if (op.final && op.final.size !== op.offset + op.data.length) {
      throw new ArmoryError('RPC_E_BAD_PARAMS', `${op.rel}: an append of ${op.data.length} bytes at ${op.offset} cannot make a file of ${op.final.size}`);
    }
    await this.onDisk(this.root, guard);
    // Only onto a file that is there, below folders that are (never through a link).
    if (!(await this.parentsThere(op.rel, guard))) return { have: 0, mismatch: true };
    const fh = await fsp.open(dest, fs.constants.O_RDWR | fs.constants.O_NOFOLLOW).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ELOOP' || e.code === 'EISDIR') return null;
      throw e;
    });
    if (!fh) return { have: 0, mismatch: true };
    try {
      const st = await fh.stat();
      if (guard && st.dev !== guard.dev) throw gone(dest);
      if (!st.isFile() || st.size !== op.offset || (await tailSha256(fh, op.offset)) !== op.base) return { have: st.size, mismatch: true };
      if (op.data.length > 0) await writeFully(fh, op.data, op.offset);
      const have = op.offset + op.data.length;
      if (!op.final) return { have };
      if ((st.mode & 0o7777) !== (op.final.mode & 0o7777)) await fh.chmod(op.final.mode & 0o7777);
      const mtime = new Date(op.final.mtimeMs);
      await fh.utimes(mtime, mtime);
      await fh.sync();
      return { have };
    } finally {
      await fh.close();
    }
  }

  /** A page of the copy's entries in path order (staging excluded), with checksums when asked. */
  async list(after: string | undefined, limit: number, checksums: boolean): Promise<{ files: MirrorFile[]; more: boolean }> {
    return listTree(this.root, after, limit, checksums);
  }
}

export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** SHA-256 of the last ≤ 4 KiB before `size` of an open file: what an append is checked against. */
export async function tailSha256(fh: FileHandle, size: number): Promise<string> {
  const start = Math.max(0, size - APPEND_BASE_BYTES);
  const buf = Buffer.alloc(size - start);
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return createHash('sha256').update(buf.subarray(0, got)).digest('hex');
}

/** Every entry under `root` (except the staging folder) in path order, paged. */
export async function listTree(root: string, after: string | undefined, limit: number, checksums: boolean): Promise<{ files: MirrorFile[]; more: boolean }> {
  const all: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fsp.readdir(rel ? path.join(root, rel) : root, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === STAGING) continue;
      all.push(r);
      if (e.isDirectory()) await walk(r);
    }
  };
  await walk('');
  all.sort();
  const start = after === undefined ? 0 : all.findIndex((r) => r > after);
  const page = start < 0 ? [] : all.slice(start, start + limit);
  const files: MirrorFile[] = [];
  for (const rel of page) {
    const p = path.join(root, rel);
    const st = await fsp.lstat(p).catch(() => null);
    if (!st) continue;
    if (st.isSymbolicLink()) files.push({ rel, type: 'symlink', size: 0, mtimeMs: 0, target: await fsp.readlink(p) });
    else if (st.isDirectory()) files.push({ rel, type: 'dir', size: 0, mtimeMs: 0 });
    else if (st.isFile()) files.push({ rel, type: 'file', size: st.size, mtimeMs: Math.floor(st.mtimeMs), ...(checksums ? { sha256: await fileSha256(p) } : {}) });
  }
  return { files, more: start >= 0 && start + limit < all.length };
}
