// The console host of the console-paint benchmark: the real console server and bridge-host over a
// synthetic core (N services on one node), and a driver that changes their states at a set rate.
// Bundled by console-paint.js with esbuild, since benchmarks run as plain JavaScript.
import path from 'node:path';
import type { StatusSnapshot } from '../../common/bridge/services.js';
import type { ServiceStatus } from '../../common/wire/service-status.js';
import { BridgeHost } from '../../main/bridge-host/bridge-host.js';
import { startConsoleServer } from '../../main/console/console-server.js';
import { stubHandlers } from '../helpers/bridge-stubs.js';

const STATES: ServiceStatus['state'][] = ['running', 'backing-off', 'starting', 'failed', 'escalated'];

export async function startPaintHost(options: { services: number; root: string }) {
  let generation = 0;
  const services: ServiceStatus[] = Array.from({ length: options.services }, (_, i) => ({
    name: `svc-${String(i).padStart(4, '0')}`,
    state: 'running',
    desired: 'up',
    ready: true,
    pid: 1000 + i,
    restarts: 0,
    reason: 'started',
    since: new Date().toISOString(),
    uptimeMs: 0,
    lastExit: null,
    nextRestartMs: null,
    statusText: null,
    health: null,
  }));
  const snapshot = (): StatusSnapshot => ({ at: new Date().toISOString(), nodes: [{ node: 'local', address: '127.0.0.1', reachable: true, error: null, services: services.map((s) => ({ ...s })) }] });
  const host = new BridgeHost(
    stubHandlers({
      services: { status: async () => snapshot(), availability: async () => [] },
      events: { query: async () => ({ events: [], last: 0 }) },
      config: { get: async () => ({ version: 1, yaml: '', raw: {}, document: {} }) },
    }),
  );
  const server = await startConsoleServer(host, { port: 0, rendererDir: path.join(options.root, 'dist/renderer') });
  return {
    url: server.url,
    refusalUrl: `${server.origin}/`,
    /** Changes `count` services' state (round robin) and sends one snapshot; `restarts` carries the generation, to check what is painted. */
    step(count: number): number {
      generation += 1;
      for (let k = 0; k < count; k += 1) {
        const s = services[(generation * count + k) % services.length] as ServiceStatus;
        s.state = STATES[(generation + k) % STATES.length] as ServiceStatus['state'];
        s.ready = s.state === 'running';
        s.restarts = generation;
      }
      host.emit('services', 'status', snapshot());
      return generation;
    },
    close: () => server.close(),
  };
}
