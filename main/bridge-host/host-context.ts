import type { StatusSnapshot } from '../../common/bridge/services.js';
import type { Manager } from '../core/manager.js';
import type { BridgeHost } from './bridge-host.js';

/** What the handlers of the manager's bridge share. */
export interface HostContext {
  readonly manager: Manager;
  /** Sends an event to the GUI (set once the host exists). */
  readonly emit: BridgeHost['emit'];
  /** The repository (bundle) root: enrollment uploads the agent from here. */
  readonly bundleDir: string;
  /** bin/armory-agent.js: the local node's agent. */
  readonly agentBin: string;
  /** Agent port of the local node when the GUI adds it. */
  readonly localAgentPort: number;
  /** The latest status, fresh from the agents (taken by the live feed, or now). */
  status(options?: { fresh?: boolean }): Promise<StatusSnapshot>;
}
