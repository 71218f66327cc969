import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ArmoryConfig } from '../../common/config/document.js';
import type { ArmoryError } from '../../common/errors/armory-error.js';
import { fsyncDir } from '../../common/node/fsync.js';
import type { AgentEventInput } from '../../common/wire/service-status.js';
import type { ServiceRoles } from '../replication/service-roles.js';
import type { Checkpoints } from './checkpoints.js';
import { writeFully } from '../../common/node/write-fully.js';

export interface FileCheckpointsDeps {
  node: string;
  checkpoints: Checkpoints;
  config: () => ArmoryConfig | null;
  roles: ServiceRoles;
  /** Whether the service runs on this node now. */
  runsHere: (service: string) => boolean;
  event: (e: AgentEventInput) => void;
}

const TICK_MS = 100;

/**
 * Checkpoints for programs that do not use the API (`checkpoint.path`): the agent takes the file
 * as a checkpoint every `checkpoint.every` when it changed, and before the program starts on a node
 * whose file is missing or older than a checkpoint replicated from another node, puts the newest
 * valid checkpoint back in its place (atomically).
 */
export class FileCheckpoints {
  private readonly last = new Map<string, { at: number; seen: string }>();
  private readonly busy = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: FileCheckpointsDeps) {}

  start(): void {
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private tick(): void {
    const now = Date.now();
    for (const [service, svc] of Object.entries(this.deps.config()?.services ?? {})) {
      const spec = svc.checkpoint;
      if (!spec?.path || this.busy.has(service) || !this.deps.runsHere(service) || !this.deps.roles.isActive(service)) continue;
      const last = this.last.get(service);
      if (last && now - last.at < spec.every) continue;
      this.busy.add(service);
      void this.take(service, spec.path)
        .then((seen) => this.last.set(service, { at: now, seen: seen ?? last?.seen ?? '' }))
        .catch((e: unknown) => {
          this.last.set(service, { at: now, seen: last?.seen ?? '' });
          this.deps.event({ kind: 'checkpoint', service, reason: `cannot take ${spec.path} as a checkpoint: ${(e as Error).message}`, detail: { code: (e as ArmoryError).code ?? 'CHECKPOINT_E_IO' } });
        })
        .finally(() => this.busy.delete(service));
    }
  }

  /** Takes the file as a checkpoint when it changed; returns what was seen (null: unchanged or absent). */
  private async take(service: string, file: string): Promise<string | null> {
    const st = await fsp.stat(file).catch(() => null);
    if (!st?.isFile()) return null;
    const seen = `${st.ino}-${st.size}-${st.mtimeMs}`;
    if (this.last.get(service)?.seen === seen) return null;
    const store = this.deps.checkpoints.store(service);
    if (!store) return null;
    const writer = await store.beginSave(this.deps.roles.epochOf(service));
    try {
      for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) await writer.write(chunk as Buffer);
    } catch (e) {
      await writer.abort();
      throw e;
    }
    const stored = await writer.commit();
    this.deps.checkpoints.replicate(service, stored);
    return seen;
  }

  /** Before the services that run here start: puts replicated state back where a program expects it. */
  async restore(): Promise<void> {
    for (const [service, svc] of Object.entries(this.deps.config()?.services ?? {})) {
      const file = svc.checkpoint?.path;
      if (!file || !this.deps.runsHere(service) || !this.deps.roles.isActive(service)) continue;
      const store = this.deps.checkpoints.store(service);
      const newest = await store?.newestValid();
      if (!store || !newest) continue;
      const st = await fsp.stat(file).catch(() => null);
      const savedAt = Date.parse(newest.meta.savedAt);
      if (st && (newest.meta.node === this.deps.node || savedAt <= st.mtimeMs)) continue;
      const tmp = `${file}.armory-restore-${process.pid}`;
      try {
        await fsp.mkdir(path.dirname(file), { recursive: true });
        const fh = await fsp.open(tmp, 'w', st ? st.mode & 0o7777 : 0o600);
        try {
          for await (const chunk of store.openData(newest)) await writeFully(fh, chunk as Buffer);
          await fh.sync();
        } finally {
          await fh.close();
        }
        if (st) await fsp.chown(tmp, st.uid, st.gid).catch(() => undefined);
        await fsp.rename(tmp, file);
        await fsyncDir(path.dirname(file));
      } catch (e) {
        await fsp.rm(tmp, { force: true });
        this.deps.event({ kind: 'checkpoint', service, reason: `cannot restore ${file} from checkpoint ${newest.meta.seq}: ${(e as Error).message}`, detail: { code: 'CHECKPOINT_E_IO' } });
        continue;
      }
      const ageMs = Date.now() - savedAt;
      this.last.set(service, { at: Date.now(), seen: '' });
      this.deps.event({
        kind: 'checkpoint',
        service,
        reason: `restored ${file} from checkpoint ${newest.meta.seq} (epoch ${newest.meta.epoch}, ${newest.meta.size} bytes, from ${newest.meta.node}) saved ${(ageMs / 1000).toFixed(1)} s ago`,
        detail: { seq: newest.meta.seq, epoch: newest.meta.epoch, size: newest.meta.size, ageMs, node: newest.meta.node },
      });
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
