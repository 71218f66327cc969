import type { ArmoryConfig } from '../../common/config/document.js';
import { mirrorMetrics } from '../../common/wire/metrics.js';
import type { AgentEventInput } from '../../common/wire/service-status.js';
import type { ControlHandlers } from '../api/control-server.js';
import type { TlsMaterial } from '../api/tls-server.js';
import { Checkpoints } from '../checkpoints/checkpoints.js';
import { FileCheckpoints } from '../checkpoints/file-checkpoints.js';
import { Mirrors } from '../mirror/mirrors.js';
import { PeerLinks } from './peer-links.js';
import { placementRoles, type ServiceRoles } from './service-roles.js';

export interface StateElementsOptions {
  root: string;
  node: string;
  tls: TlsMaterial | null;
  config: () => ArmoryConfig | null;
  event: (e: AgentEventInput) => void;
  /** Epochs and roles from failover; by default epoch 0 and the first placement node is active. */
  roles?: ServiceRoles;
  /** Whether a service runs on this node under the current configuration. */
  runsHere: (service: string) => boolean;
}

const ROLES_POLL_MS = 500;

/**
 * What keeps a service's state across restarts and failover: checkpoints and file mirroring, with
 * the peer links they replicate over. The agent hooks it in with a few lines; failover swaps the
 * roles (setRoles) and calls refresh() when this node became active or standby for a service.
 */
export class StateElements {
  readonly checkpoints: Checkpoints;
  readonly mirrors: Mirrors;
  readonly files: FileCheckpoints;
  private readonly links: PeerLinks | null;
  private roles: ServiceRoles;
  private readonly rolesTimer: NodeJS.Timeout;
  private lastRoles = '';

  constructor(private readonly options: StateElementsOptions) {
    // A standalone agent (no cluster certificate) runs every service of its file: it is active for all.
    this.roles = options.roles ?? (options.tls ? placementRoles(options.config, options.node) : { epochOf: () => 0, isActive: () => true });
    const roles: ServiceRoles = { epochOf: (s) => this.roles.epochOf(s), isActive: (s) => this.roles.isActive(s), peerSilent: (s, n) => this.roles.peerSilent?.(s, n) ?? false };
    this.links = options.tls
      ? new PeerLinks(options.tls, (node) => {
          const n = options.config()?.nodes[node];
          return n ? { host: n.address, port: n.agentPort } : null;
        })
      : null;
    const common = { node: options.node, roles, config: options.config, links: this.links, event: options.event };
    this.checkpoints = new Checkpoints({ ...common, root: options.root });
    this.mirrors = new Mirrors(common);
    this.files = new FileCheckpoints({ ...common, checkpoints: this.checkpoints, runsHere: options.runsHere });
    this.files.start();
    // Roles change without telling (a takeover, a step-down): look twice a second, refresh on a change.
    this.rolesTimer = setInterval(() => {
      const now = this.rolesSignature(options.config());
      if (now !== this.lastRoles) void this.refresh();
    }, ROLES_POLL_MS);
    this.rolesTimer.unref();
  }

  private rolesSignature(config: ArmoryConfig | null): string {
    const parts: string[] = [];
    for (const [name, svc] of Object.entries(config?.services ?? {})) {
      if (svc.mirror || svc.checkpoint) parts.push(`${name}:${this.roles.isActive(name) ? 'active' : 'standby'}:${this.roles.epochOf(name)}`);
    }
    return parts.join(',');
  }

  setRoles(roles: ServiceRoles): Promise<void> {
    this.roles = roles;
    return this.refresh();
  }

  /**
   * Re-reads the configuration and roles: starts and stops mirroring where this node is active and
   * puts `checkpoint.path` files back from replicated checkpoints. Call it before starting programs.
   */
  async refresh(): Promise<void> {
    this.lastRoles = this.rolesSignature(this.options.config());
    await this.files.restore();
    await this.mirrors.refresh();
  }

  handlers(): Pick<ControlHandlers, 'checkpoint.put' | 'mirror.apply' | 'mirror.list'> {
    return {
      'checkpoint.put': (p, _emit, _onClose, caller) => this.checkpoints.receive(p, caller),
      'mirror.apply': (p, _emit, _onClose, caller) => this.mirrors.apply(p, caller),
      'mirror.list': (p, _emit, _onClose, caller) => this.mirrors.list(p, caller),
    };
  }

  metrics(): string {
    return mirrorMetrics(this.mirrors.status());
  }

  async close(): Promise<void> {
    clearInterval(this.rolesTimer);
    this.files.close();
    this.checkpoints.close();
    await this.mirrors.close();
    this.links?.close();
  }
}
