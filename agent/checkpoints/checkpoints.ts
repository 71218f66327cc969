import fs, { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ArmoryConfig } from '../../common/config/document.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { REPLICATION_CHUNK_BYTES, type ParamsOf, type ResultOf } from '../../common/wire/agent-control.js';
import type { AgentEventInput } from '../../common/wire/service-status.js';
import type { PeerIdentity } from '../api/peer-identity.js';
import { bytesFor, bytesOf, type PeerLinks } from '../replication/peer-links.js';
import { replicaNodes, type ServiceRoles } from '../replication/service-roles.js';
import { serveCheckpointConnection } from './checkpoint-connection.js';
import { CheckpointStore, type CheckpointWriter, type StoredCheckpoint } from './checkpoint-store.js';

export interface CheckpointsDeps {
  /** The agent's state directory: checkpoints go to DIR/checkpoints/NAME, sockets to DIR/checkpoint/NAME.sock. */
  root: string;
  node: string;
  roles: ServiceRoles;
  config: () => ArmoryConfig | null;
  links: PeerLinks | null;
  event: (e: AgentEventInput) => void;
}

interface Outbound {
  pending: StoredCheckpoint | null;
  running: boolean;
  failing: string | null;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;
const INBOUND_IDLE_MS = 60_000;

/**
 * The checkpoint element: a Unix socket per service (ARMORY_CHECKPOINT_SOCKET) over which the
 * program saves, loads and lists its state snapshots; a store per service; and replication of each
 * new checkpoint to the service's standby nodes over the agents' mutual-TLS link, tagged with the
 * epoch, resumed where it broke and retried until the standby has it.
 */
export class Checkpoints {
  private readonly servers = new Map<string, { path: string; server: net.Server }>();
  private readonly stores = new Map<string, CheckpointStore>();
  private readonly outbound = new Map<string, Outbound>();
  private readonly inbound = new Map<string, { writer: CheckpointWriter; touched: number }>();
  private closed = false;

  constructor(private readonly deps: CheckpointsDeps) {}

  private spec(service: string) {
    return this.deps.config()?.services[service]?.checkpoint;
  }

  /** The service's store, or null when its configuration asks for no checkpoints. */
  store(service: string): CheckpointStore | null {
    const spec = this.spec(service);
    if (!spec) return null;
    const existing = this.stores.get(service);
    if (existing && existing.options.keep === spec.keep && existing.options.maxSize === spec.maxSize) return existing;
    const store = new CheckpointStore({
      dir: path.join(this.deps.root, 'checkpoints', service),
      keep: spec.keep,
      maxSize: spec.maxSize,
      node: this.deps.node,
      onProblem: (reason, detail) => this.deps.event({ kind: 'checkpoint', service, reason, detail }),
    });
    this.stores.set(service, store);
    return store;
  }

  /** Creates (once) the service's checkpoint socket and returns its path, or null without checkpoints. */
  socketFor(service: string, owner?: { uid: number; gid: number }): string | null {
    const store = this.store(service);
    if (!store) return null;
    const existing = this.servers.get(service);
    if (existing) return existing.path;
    const dir = path.join(this.deps.root, 'checkpoint');
    fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
    fs.chmodSync(dir, 0o711);
    const file = path.join(dir, `${service}.sock`);
    fs.rmSync(file, { force: true });
    const server = net.createServer((socket) => {
      const s = this.store(service);
      if (!s) return socket.destroy();
      serveCheckpointConnection(socket, {
        store: s,
        epoch: () => this.deps.roles.epochOf(service),
        saved: (stored) => this.replicate(service, stored),
        loaded: (stored) => this.loaded(service, stored),
      });
    });
    server.on('error', (e) => this.deps.event({ kind: 'checkpoint', service, reason: `the checkpoint socket failed: ${e.message}`, detail: { code: 'CHECKPOINT_E_IO' } }));
    // A Unix socket is bound synchronously by listen(): the file exists when it returns.
    server.listen(file);
    fs.chmodSync(file, 0o600);
    if (owner) fs.chownSync(file, owner.uid, owner.gid);
    this.servers.set(service, { path: file, server });
    return file;
  }

  private loaded(service: string, stored: StoredCheckpoint): void {
    const ageMs = Date.now() - Date.parse(stored.meta.savedAt);
    this.deps.event({
      kind: 'checkpoint',
      service,
      reason: `the program loaded checkpoint ${stored.meta.seq} (epoch ${stored.meta.epoch}, ${stored.meta.size} bytes, from ${stored.meta.node}) saved ${(ageMs / 1000).toFixed(1)} s ago`,
      detail: { seq: stored.meta.seq, epoch: stored.meta.epoch, size: stored.meta.size, ageMs, node: stored.meta.node },
    });
  }

  /** Sends a new checkpoint to the service's standbys (when this node is active and replication is on). */
  replicate(service: string, stored: StoredCheckpoint): void {
    if (!this.spec(service)?.replicate || !this.deps.links || !this.deps.roles.isActive(service)) return;
    for (const node of replicaNodes(this.deps.config(), service)) {
      if (node === this.deps.node) continue;
      const key = `${service}\0${node}`;
      const o = this.outbound.get(key) ?? { pending: null, running: false, failing: null };
      this.outbound.set(key, o);
      o.pending = stored;
      if (!o.running) void this.drain(service, node, o);
    }
  }

  private async drain(service: string, node: string, o: Outbound): Promise<void> {
    o.running = true;
    let delay = RETRY_MIN_MS;
    while (o.pending && !this.closed) {
      const stored = o.pending;
      try {
        await this.send(service, node, stored);
        if (o.pending === stored) o.pending = null;
        delay = RETRY_MIN_MS;
        if (o.failing) {
          this.deps.event({ kind: 'checkpoint', service, reason: `checkpoints reach ${node} again (checkpoint ${stored.meta.seq} replicated)`, detail: { node, seq: stored.meta.seq } });
          o.failing = null;
        }
      } catch (e) {
        const err = e as ArmoryError;
        if (err.code === 'CHECKPOINT_E_STALE_EPOCH') {
          this.deps.event({ kind: 'checkpoint', service, reason: `${node} holds checkpoints of a newer epoch; checkpoint ${stored.meta.seq} not replicated`, detail: { node, code: err.code } });
          if (o.pending === stored) o.pending = null;
          continue;
        }
        if (o.failing === null) {
          o.failing = err.message;
          this.deps.event({ kind: 'checkpoint', service, reason: `cannot replicate checkpoint ${stored.meta.seq} to ${node}: ${err.message}; retrying until it answers`, detail: { node, code: err.code ?? 'CHECKPOINT_E_IO' } });
        }
        await new Promise((r) => setTimeout(r, delay).unref());
        delay = Math.min(RETRY_MAX_MS, delay * 2);
      }
    }
    o.running = false;
  }

  private async send(service: string, node: string, stored: StoredCheckpoint): Promise<void> {
    const links = this.deps.links as PeerLinks;
    const fh = await fsp.open(stored.file, 'r');
    try {
      const buf = Buffer.alloc(REPLICATION_CHUNK_BYTES);
      let offset = 0;
      for (let rounds = 0; rounds < 100_000; rounds += 1) {
        const len = Math.min(REPLICATION_CHUNK_BYTES, stored.meta.size - offset);
        const { bytesRead } = await fh.read(buf, 0, len, offset);
        const final = offset + bytesRead >= stored.meta.size;
        const r = await links.call(node, 'checkpoint.put', (features) => ({ service, meta: stored.meta, offset, data: bytesFor(features, buf.subarray(0, bytesRead)), final }));
        if (r.stored) return;
        offset = r.have;
      }
      throw new ArmoryError('CHECKPOINT_E_IO', `replication of checkpoint ${stored.meta.seq} to ${node} made no progress`);
    } finally {
      await fh.close();
    }
  }

  /** A peer's replicated chunk (the `checkpoint.put` method). */
  async receive(p: ParamsOf<'checkpoint.put'>, caller: PeerIdentity): Promise<ResultOf<'checkpoint.put'>> {
    const replicas = replicaNodes(this.deps.config(), p.service);
    if (caller.role === 'agent' && (!replicas.includes(caller.name) || !replicas.includes(this.deps.node))) {
      throw new ArmoryError('CHECKPOINT_E_NOT_REPLICA', `${caller.name} and ${this.deps.node} do not both carry ${p.service}`, { service: p.service });
    }
    const store = this.store(p.service);
    if (!store) throw new ArmoryError('CHECKPOINT_E_NOT_REPLICA', `${p.service} takes no checkpoints here`, { service: p.service });
    const now = Date.now();
    for (const [k, v] of this.inbound) {
      if (now - v.touched > INBOUND_IDLE_MS) {
        void v.writer.abort();
        this.inbound.delete(k);
      }
    }
    const key = `${p.service}\0${p.meta.epoch}\0${p.meta.seq}`;
    let entry = this.inbound.get(key);
    if (!entry) {
      if (p.offset !== 0) return { have: 0, stored: false };
      const writer = await store.beginReceive(p.meta);
      if (!writer) return { have: p.meta.size, stored: true };
      entry = { writer, touched: now };
      this.inbound.set(key, entry);
    }
    entry.touched = now;
    if (p.offset !== entry.writer.bytes) return { have: entry.writer.bytes, stored: false };
    try {
      await entry.writer.write(bytesOf(p.data));
      if (!p.final) return { have: entry.writer.bytes, stored: false };
      this.inbound.delete(key);
      await entry.writer.commit();
      return { have: p.meta.size, stored: true };
    } catch (e) {
      this.inbound.delete(key);
      await entry.writer.abort();
      throw e;
    }
  }

  /** Closes the socket of a service that is no longer configured here. */
  closeService(service: string): void {
    const s = this.servers.get(service);
    if (!s) return;
    this.servers.delete(service);
    s.server.close();
    fs.rmSync(s.path, { force: true });
  }

  close(): void {
    this.closed = true;
    for (const name of [...this.servers.keys()]) this.closeService(name);
    for (const v of this.inbound.values()) void v.writer.abort();
    this.inbound.clear();
  }
}
