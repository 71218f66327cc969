import fs from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { MirrorFile } from '../../common/wire/mirror-wire.js';
import type { PeerLinks } from '../replication/peer-links.js';
import { MirrorReceiver, type TargetOp } from './mirror-receiver.js';

const DISK_DOWN = new Set(['ENOSPC', 'EROFS', 'EIO', 'EDQUOT']);

/** Where a mirrored folder's changes go: a local folder on another disk, or a standby node. */
export interface MirrorTarget {
  readonly name: string;
  /** Bytes per put chunk. */
  readonly chunkBytes: number;
  /** Changes this target takes at once. */
  readonly parallel: number;
  available(): Promise<boolean>;
  apply(op: TargetOp): Promise<{ have?: number }>;
  list(after: string | undefined, limit: number, checksums: boolean): Promise<{ files: MirrorFile[]; more: boolean }>;
}

/**
 * A local folder (`mirror.to`) receiving the copy of `folder` under to/<folder>. The `to` folder is
 * never created by Armory: when it is missing, or was a mount point and no longer is (the disk is
 * gone and only the empty mount point is left), the target counts as down.
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

  async available(): Promise<boolean> {
    const st = fs.statSync(this.to, { throwIfNoEntry: false });
    if (!st?.isDirectory()) return false;
    const parent = fs.statSync(path.dirname(this.to), { throwIfNoEntry: false });
    const mountPoint = parent !== undefined && parent.dev !== st.dev;
    if (this.wasMountPoint === null) this.wasMountPoint = mountPoint;
    if (this.wasMountPoint && !mountPoint) return false;
    fs.mkdirSync(this.receiver.root, { recursive: true, mode: 0o755 });
    return true;
  }

  async apply(op: TargetOp): Promise<{ have?: number }> {
    if (!(await this.available())) throw new ArmoryError('MIRROR_E_TARGET_DOWN', `${this.to} is gone (missing, or its disk is unmounted)`);
    try {
      return await this.receiver.apply(op);
    } catch (e) {
      // A full, read-only or failing disk is a target that is down: its changes wait for it.
      const errno = e instanceof ArmoryError ? e.context.errno : undefined;
      if (typeof errno === 'string' && DISK_DOWN.has(errno)) throw new ArmoryError('MIRROR_E_TARGET_DOWN', `${this.to}: ${(e as Error).message}`, { errno });
      throw e;
    }
  }

  async list(after: string | undefined, limit: number, checksums: boolean) {
    if (!(await this.available())) throw new ArmoryError('MIRROR_E_TARGET_DOWN', `${this.to} is gone (missing, or its disk is unmounted)`);
    return this.receiver.list(after, limit, checksums);
  }
}

/** A standby node's agent, reached over mutual TLS; it writes into its own copy of the same folder. */
export class PeerTarget implements MirrorTarget {
  readonly name: string;
  readonly chunkBytes = 512 * 1024;
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
      await this.links.call(this.node, 'hello', { protocol: 1 });
      return true;
    } catch {
      return false;
    }
  }

  async apply(op: TargetOp): Promise<{ have?: number }> {
    const wire = op.kind === 'put' ? { ...op, data: Buffer.from(op.data).toString('base64') } : op;
    try {
      return await this.links.call(this.node, 'mirror.apply', { service: this.service, folder: this.folder, epoch: this.epoch(), op: wire });
    } catch (e) {
      if (e instanceof ArmoryError && e.code === 'AGENT_E_UNREACHABLE') throw new ArmoryError('MIRROR_E_TARGET_DOWN', e.message, { node: this.node });
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
