import path from 'node:path';
import { LOCAL_NODE } from '../../common/config/placement.js';
import { createManagerBridge } from '../bridge-host/manager-bridge.js';
import type { Manager } from '../core/manager.js';
import { startConsoleServer, type ConsoleServer } from './console-server.js';

export interface RunConsoleOptions {
  port: number;
  localAgentPort: number;
  bundleDir: string;
  agentBin: string;
  /** Prints a line for the user. */
  out: (line: string) => void;
  pollMs?: number;
}

/**
 * First run: this machine becomes the node `local` (its agent started by the manager), so a program
 * can be protected without enrolling anything. Later runs start the local agent again when it does
 * not answer.
 */
export async function ensureLocalNode(manager: Manager, o: Pick<RunConsoleOptions, 'localAgentPort' | 'agentBin' | 'out'>): Promise<void> {
  const nodes = manager.inventory.data.nodes;
  if (Object.keys(nodes).length > 0 && !nodes[LOCAL_NODE]) return;
  const existing = nodes[LOCAL_NODE];
  if (existing) {
    const answers = await manager.waitForAgent(LOCAL_NODE, 2000).then(() => true, () => false);
    if (answers) return;
    o.out('the local agent does not answer: starting it again');
  } else {
    o.out('first run: making this machine the node "local" (starting its agent)');
  }
  await manager.addLocalNode({ agentPort: existing?.agentPort ?? o.localAgentPort, agentBin: o.agentBin });
}

/** Starts the console over an open manager; resolves with the server once it listens. */
export async function startConsole(manager: Manager, o: RunConsoleOptions): Promise<{ server: ConsoleServer; close(): Promise<void> }> {
  await ensureLocalNode(manager, o).catch((e: unknown) => o.out(`the local node could not be started: ${(e as Error).message} (the Nodes screen can add it)`));
  const bridge = createManagerBridge(manager, { bundleDir: o.bundleDir, agentBin: o.agentBin, localAgentPort: o.localAgentPort, pollMs: o.pollMs ?? 1000 });
  const server = await startConsoleServer(bridge.host, { port: o.port, rendererDir: path.join(o.bundleDir, 'dist/renderer') });
  bridge.feed.start();
  return {
    server,
    async close() {
      bridge.close();
      await server.close();
    },
  };
}

/** `armory console`: serves until SIGINT or SIGTERM; the agents keep running after it stops. */
export async function runConsole(manager: Manager, o: RunConsoleOptions): Promise<number> {
  const c = await startConsole(manager, o);
  o.out(`Armory console: open ${c.server.url}`);
  o.out('(only this address, with its session token, gets in; Ctrl-C stops the console, not your services)');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await c.close();
  return 0;
}
