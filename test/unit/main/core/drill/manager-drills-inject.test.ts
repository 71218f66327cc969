import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArmoryError } from '../../../../../common/errors/armory-error.js';
import { ManagerDrills } from '../../../../../main/core/drill/manager-drills.js';
import type { Manager } from '../../../../../main/core/manager.js';
import { waitFor } from '../../../../helpers/wait.js';

let home = '';
let server: net.Server;
const calls: string[] = [];

/** A manager whose one node (local) runs web and never answers drill.inject: its answer is lost. */
function silentManager(): Manager {
  const cfg = path.join(home, 'armory.yaml');
  const port = (server.address() as net.AddressInfo).port;
  fs.writeFileSync(cfg, `services:\n  web:\n    command: /bin/true\n    probes: [{ tcp: "127.0.0.1:${port}" }]\n`);
  return {
    home: { root: home },
    inventory: { data: { configVersions: [{ version: 1, file: cfg }], nodes: { local: {} } } },
    groups: async () => [],
    status: async () => [{ node: 'local', address: '127.0.0.1', reachable: true, services: [{ name: 'web', state: 'running', ready: true }] }],
    connect: async () => ({
      call: (method: string) => {
        calls.push(method);
        return new Promise(() => undefined);
      },
      close: () => undefined,
    }),
    collectEvents: async () => 0,
    readEvents: () => [],
    events: { append: () => undefined, flush: async () => undefined },
  } as unknown as Manager;
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-drill-inject-'));
  server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  fs.rmSync(home, { recursive: true, force: true });
});

describe('a drill whose node does not confirm the fault', () => {
  it('of a timed fault keeps the lock, measures anyway and says in the report that the fault was not confirmed', async () => {
    const drills = new ManagerDrills(silentManager());
    drills.injectAnswerMs = 200;
    const phases: string[] = [];
    const running = drills.run({ service: 'web', fault: 'partition', durationMs: 100, force: true }, (p) => phases.push(`${p.phase}: ${p.text}`));
    // Past the unanswered inject the drill goes on, holding the lock: a second drill is refused.
    await waitFor('the drill to go on past the unanswered inject', () => phases.some((p) => p.startsWith('injected:')));
    const second = await drills.run({ service: 'web', fault: 'kill', force: true }).then(() => 'ran', (e: ArmoryError) => e.code);
    expect(second).toBe('DRILL_E_BUSY');
    const report = await running;
    expect(calls).toContain('drill.inject');
    expect(phases.find((p) => p.startsWith('injected:'))).toBe('injected: partition on local: sent, not confirmed by the node');
    expect(report.notes.some((n) => /local did not confirm the partition \(no answer within 200 ms\)/.test(n))).toBe(true);
    expect(report.totalProbes).toBeGreaterThan(0);
    expect(drills.list().map((r) => r.id)).toEqual([report.id]);
  }, 20_000);

  it('of a fault that is not timed ends the drill with DRILL_E_INJECT and lets the next one run', async () => {
    const drills = new ManagerDrills(silentManager());
    drills.injectAnswerMs = 200;
    const code = await drills.run({ service: 'web', fault: 'kill', force: true }).then(() => 'ran', (e: ArmoryError) => e.code);
    expect(code).toBe('DRILL_E_INJECT');
    const again = await drills.run({ service: 'web', fault: 'kill', force: true }).then(() => 'ran', (e: ArmoryError) => e.code);
    expect(again).toBe('DRILL_E_INJECT');
  }, 20_000);
});
