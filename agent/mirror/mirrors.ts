import fs from 'node:fs';
import path from 'node:path';
import type { ArmoryConfig } from '../../common/config/document.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { ParamsOf, ResultOf } from '../../common/wire/agent-control.js';
import type { MirrorStatus } from '../../common/wire/mirror-wire.js';
import type { AgentEventInput } from '../../common/wire/service-status.js';
import type { PeerIdentity } from '../api/peer-identity.js';
import { bytesOf, type PeerLinks } from '../replication/peer-links.js';
import { replicaNodes, type ServiceRoles } from '../replication/service-roles.js';
import { FolderMirror } from './folder-mirror.js';
import { MirrorReceiver, STAGING, type TargetOp } from './mirror-receiver.js';
import { LocalTarget, PeerTarget, type MirrorTarget } from './mirror-target.js';

export interface MirrorsDeps {
  node: string;
  roles: ServiceRoles;
  config: () => ArmoryConfig | null;
  links: PeerLinks | null;
  event: (e: AgentEventInput) => void;
}

/**
 * The file-mirroring element: on the node that is active for a service, a FolderMirror per
 * configured folder duplicates its writes to `mirror.to` and to the standbys; on a standby, the
 * `mirror.apply` and `mirror.list` methods write into its own copy of the same folders, which is
 * what the program starts on after a takeover. A standby never writes to the active's files: an
 * active node refuses mirrored writes for the service.
 */
export class Mirrors {
  private readonly active = new Map<string, { key: string; folders: FolderMirror[] }>();
  private readonly receivers = new Map<string, MirrorReceiver>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: MirrorsDeps) {}

  private spec(service: string) {
    return this.deps.config()?.services[service]?.mirror;
  }

  /**
   * Starts or stops the FolderMirrors after a change of configuration or of roles. Failover calls
   * it once this node became active for a service (before starting the program on its copy).
   */
  refresh(): Promise<void> {
    this.chain = this.chain.then(() => this.refreshNow()).catch((e: unknown) => this.deps.event({ kind: 'mirror', reason: `mirroring could not be set up: ${(e as Error).message}`, detail: { code: 'MIRROR_E_CONFIG' } }));
    return this.chain;
  }

  private async refreshNow(): Promise<void> {
    const config = this.deps.config();
    const wanted = new Map<string, string>();
    for (const [service, svc] of Object.entries(config?.services ?? {})) {
      if (!svc.mirror || !this.deps.roles.isActive(service)) continue;
      const replicas = replicaNodes(config, service);
      if (this.deps.links && replicas.length > 0 && !replicas.includes(this.deps.node)) continue;
      wanted.set(service, JSON.stringify([svc.mirror, replicas]));
    }
    for (const [service, m] of this.active) {
      if (wanted.get(service) === m.key) continue;
      this.active.delete(service);
      await Promise.all(m.folders.map((f) => f.close()));
    }
    for (const [service, key] of wanted) {
      if (this.active.has(service)) continue;
      const spec = this.spec(service);
      if (!spec) continue;
      const folders: FolderMirror[] = [];
      for (const folder of spec.folders) {
        const targets: MirrorTarget[] = [];
        if (spec.to !== undefined) {
          if (spec.to === folder || spec.to.startsWith(`${folder}/`) || folder.startsWith(`${spec.to}/`)) {
            this.deps.event({ kind: 'mirror', service, reason: `mirror.to ${spec.to} overlaps the mirrored folder ${folder}; that target is left out`, detail: { code: 'MIRROR_E_CONFIG' } });
          } else targets.push(new LocalTarget(spec.to, folder));
        }
        if (spec.standbys && this.deps.links) {
          for (const node of replicaNodes(config, service)) {
            if (node !== this.deps.node) targets.push(new PeerTarget(node, this.deps.links, service, folder, () => this.deps.roles.epochOf(service)));
          }
        }
        if (targets.length === 0) continue;
        const fm = new FolderMirror({
          service,
          folder,
          targets,
          lagAlertMs: spec.lagAlert,
          copyIntervalMs: spec.interval,
          scrubMs: spec.scrub,
          peerSilent: (node) => this.deps.roles.peerSilent?.(service, node) ?? false,
          event: (reason, detail) => this.deps.event({ kind: 'mirror', service, reason, detail }),
        });
        // Leftovers of the time this node was a standby.
        fs.rmSync(path.join(folder, STAGING), { recursive: true, force: true });
        await fm.start();
        folders.push(fm);
      }
      this.active.set(service, { key, folders });
    }
  }

  /** Whether every write made so far under the service's folders reached every target. */
  caughtUp(service: string): boolean {
    return this.active.get(service)?.folders.every((f) => f.caughtUp()) ?? true;
  }

  /** The standby nodes whose copy of the service's folders lags: their target is down or catching up. */
  lagging(service: string): string[] {
    return [...new Set((this.active.get(service)?.folders ?? []).flatMap((f) => f.laggingNodes()))];
  }

  /**
   * Resolves once every write made under the service's mirrored folders before the call is on every
   * target that is up (FolderMirror.barrier, for all folders). Waits for a refresh under way first.
   * Rejects with MIRROR_E_NOT_ACTIVE when this node runs no mirror with a target for the service,
   * and with MIRROR_E_CLOSED when the mirror stops first (the node is no longer active for it).
   */
  async barrier(service: string): Promise<void> {
    await this.chain;
    const m = this.active.get(service);
    if (!m || m.folders.length === 0) {
      throw new ArmoryError('MIRROR_E_NOT_ACTIVE', `${this.deps.node} runs no mirror ${m ? 'with a target ' : ''}for ${service}${m ? '' : ' (not active here, or no mirror configured)'}`, { service, node: this.deps.node });
    }
    await Promise.all(m.folders.map((f) => f.barrier()));
  }

  /** Runs the scrub of a service's folders now. */
  async scrub(service: string): Promise<{ target: string; repaired: number }[]> {
    const out: { target: string; repaired: number }[] = [];
    for (const f of this.active.get(service)?.folders ?? []) out.push(...(await f.scrub()));
    return out;
  }

  status(): MirrorStatus[] {
    return [...this.active.values()].flatMap((m) => m.folders.flatMap((f) => f.status()));
  }

  private receiverFor(p: { service: string; folder: string }, caller: PeerIdentity): MirrorReceiver {
    const config = this.deps.config();
    const spec = this.spec(p.service);
    const replicas = replicaNodes(config, p.service);
    if (!spec || !replicas.includes(this.deps.node) || (caller.role === 'agent' && !replicas.includes(caller.name))) {
      throw new ArmoryError('MIRROR_E_NOT_REPLICA', `${this.deps.node} keeps no mirror of ${p.service} for ${caller.name}`, { service: p.service });
    }
    if (!spec.folders.includes(p.folder)) throw new ArmoryError('MIRROR_E_PATH', `${p.folder} is not a mirrored folder of ${p.service}`, { service: p.service });
    let r = this.receivers.get(p.folder);
    if (!r) {
      fs.mkdirSync(p.folder, { recursive: true, mode: 0o755 });
      r = new MirrorReceiver(p.folder);
      this.receivers.set(p.folder, r);
    }
    return r;
  }

  /** A change from the active node (the `mirror.apply` method). */
  async apply(p: ParamsOf<'mirror.apply'>, caller: PeerIdentity): Promise<ResultOf<'mirror.apply'>> {
    const r = this.receiverFor(p, caller);
    if (this.deps.roles.isActive(p.service)) {
      throw new ArmoryError('MIRROR_E_ACTIVE', `${this.deps.node} is active for ${p.service}: its files are never overwritten by ${caller.name}`, { service: p.service });
    }
    const epoch = this.deps.roles.epochOf(p.service);
    if (p.epoch < epoch) throw new ArmoryError('MIRROR_E_STALE_EPOCH', `a write of epoch ${p.epoch} is older than this node's epoch ${epoch}`, { service: p.service });
    const op: TargetOp = p.op.kind === 'put' || p.op.kind === 'append' ? { ...p.op, data: bytesOf(p.op.data) } : p.op;
    return r.apply(op);
  }

  /** A page of this node's copy (the `mirror.list` method). */
  async list(p: ParamsOf<'mirror.list'>, caller: PeerIdentity): Promise<ResultOf<'mirror.list'>> {
    return this.receiverFor(p, caller).list(p.after, p.limit ?? 1000, p.checksums ?? false);
  }

  async close(): Promise<void> {
    await this.chain;
    for (const m of this.active.values()) await Promise.all(m.folders.map((f) => f.close()));
    this.active.clear();
  }
}
