import fs from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { MIRROR_CHUNK_BYTES, type MirrorApplyResult, type MirrorFile } from '../../common/wire/mirror-wire.js';
import { PROTOCOL_VERSION } from '../../common/wire/protocol.js';
import { bytesFor, type PeerLinks } from '../replication/peer-links.js';
import { MirrorReceiver, type TargetOp } from './mirror-receiver.js';

const DISK_DOWN = new Set(['ENOSPC', 'EROFS', 'EIO', 'EDQUOT']);

/** The disk error (full, read-only, failing) an error of a target says, or null. */
export function diskErrno(e: unknown): string | null {
  const errno = e instanceof ArmoryError ? e.context.errno : undefined;
  return typeof errno === 'string' && DISK_DOWN.has(errno) ? errno : null;
}

/** Where a mirrored folder's changes go: a local folder on another disk, or a standby node. */
export interface MirrorTarget {
  readonly name: string;
  /** Bytes per put chunk. */
  readonly chunkBytes: number;
  /** Changes this target takes at once. */
  readonly parallel: number;
  available(): Promise<boolean>;
  apply(op: TargetOp): Promise<MirrorApplyResult>;
  list(after: string | undefined, limit: number, checksums: boolean): Promise<{ files: MirrorFile[]; more: boolean }>;
}

/**
 * A local folder (`mirror.to`) receiving the copy of `folder` under to/<folder>. The `to` folder is
 * never created by Armory: when it is missing, or was a mount point and no longer is (the disk is
 * gone and only the empty mount point is left), the target counts as down. Every change is applied
 * with the device id of `to` as seen just before it: a disk unmounted while a copy is in flight
 * leaves nothing on the bare mount point (see MirrorReceiver's DeviceGuard).
 */
export class LocalTarget implements MirrorTarget {
  readonly name: string;
  readonly chunkBytes = 4 * 1024 * 1024;
  readonly parallel = 16;
  private readonly receiver: MirrorReceiver;
  private wasMountPoint: boolean | null = null;

  constructor(
    readonly to: string,
    folder: string,
  ) {
    this.name = to;
    this.receiver = new MirrorReceiver(path.join(to, folder));
  }

  /** The device `to` is on while it is usable (a mount point that still is one), else null. */
  private device(): number | null {
    const st = fs.statSync(this.to, { throwIfNoEntry: false });
    if (!st?.isDirectory()) return null;
    const parent = fs.statSync(path.dirname(this.to), { throwIfNoEntry: false });
    const mountPoint = parent !== undefined && parent.dev !== st.dev;
    if (this.wasMountPoint === null) this.wasMountPoint = mountPoint;
    if (this.wasMountPoint && !mountPoint) return null;
    return st.dev;
  }

  /** The device of a usable `to` with the copy's root made on it, or null. */
  private ready(): number | null {
    const dev = this.device();
    if (dev === null) return null;
    const root = fs.lstatSync(this.receiver.root, { throwIfNoEntry: false });
    if (root?.isDirectory() && root.dev === dev) return dev;
    // One level at a time, each checked to be on the disk: the disk may go between two of them.
    let dir = this.to;
    for (const part of path.relative(this.to, this.receiver.root).split('/').filter(Boolean)) {
      dir = path.join(dir, part);
      try {
        fs.mkdirSync(dir, { mode: 0o755 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return null;
      }
      const st = fs.lstatSync(dir, { throwIfNoEntry: false });
      if (st?.isDirectory() && st.dev === dev) continue;
      try {
        // Made on whatever is under the mount point now: taken away again (only while empty).
        if (st?.isDirectory()) fs.rmdirSync(dir);
      } catch {
        // not empty or gone: left as it is
      }
      return null;
    }
    return dev;
  }

  async available(): Promise<boolean> {
    return this.ready() !== null;
  }

  private down(): ArmoryError {
    return new ArmoryError('MIRROR_E_TARGET_DOWN', `${this.to} is gone (missing, or its disk is unmounted)`);
  }

  async apply(op: TargetOp): Promise<MirrorApplyResult> {
    const dev = this.ready();
    if (dev === null) throw this.down();
    try {
      return await this.receiver.apply(op, { dev });
    } catch (e) {
      // A full, read-only or failing disk is a target that is down: its changes wait for it.
      const errno = diskErrno(e);
      if (errno) throw new ArmoryError('MIRROR_E_TARGET_DOWN', `${this.to}: ${(e as Error).message}`, { errno });
      // A disk unmounted in the middle of the change.
      if (!(e instanceof ArmoryError && e.code === 'MIRROR_E_TARGET_DOWN') && this.device() !== dev) throw this.down();
      throw e;
    }
  }

  async list(after: string | undefined, limit: number, checksums: boolean) {
    if (this.ready() === null) throw this.down();
    return this.receiver.list(after, limit, checksums);
  }
}

/** A standby node's agent, reached over mutual TLS; it writes into its own copy of the same folder. */
export class PeerTarget implements MirrorTarget {
  readonly name: string;
  readonly chunkBytes = MIRROR_CHUNK_BYTES;
  readonly parallel = 8;

  constructor(
    readonly node: string,
    private readonly links: PeerLinks,
    private readonly service: string,
    private readonly folder: string,
    private readonly epoch: () => number,
  ) {
    this.name = `node:${node}`;
  }

  async available(): Promise<boolean> {
    try {
      await this.links.call(this.node, 'hello', { protocol: PROTOCOL_VERSION });
      return true;
    } catch {
      return false;
    }
  }

  async apply(op: TargetOp): Promise<MirrorApplyResult> {
    // Raw bytes to an agent that reads attachments; base64 text to an older one.
    const wire = (features: ReadonlySet<string>) => (op.kind !== 'put' && op.kind !== 'append' ? op : { ...op, data: bytesFor(features, op.data) });
    try {
      return await this.links.call(this.node, 'mirror.apply', (features) => ({ service: this.service, folder: this.folder, epoch: this.epoch(), op: wire(features) }));
    } catch (e) {
      if (e instanceof ArmoryError && e.code === 'AGENT_E_UNREACHABLE') throw new ArmoryError('MIRROR_E_TARGET_DOWN', e.message, { node: this.node });
      // The standby's disk is full, read-only or failing: it is down for the mirror until that passes.
      const errno = diskErrno(e);
      if (errno) throw new ArmoryError('MIRROR_E_TARGET_DOWN', `${this.node}: ${(e as Error).message}`, { node: this.node, errno });
      throw e;
    }
  }

  async list(after: string | undefined, limit: number, checksums: boolean) {
    try {
      return await this.links.call(this.node, 'mirror.list', { service: this.service, folder: this.folder, ...(after !== undefined ? { after } : {}), limit, checksums });
    } catch (e) {
      if (e instanceof ArmoryError && e.code === 'AGENT_E_UNREACHABLE') throw new ArmoryError('MIRROR_E_TARGET_DOWN', e.message, { node: this.node });
      throw e;
    }
  }
}
