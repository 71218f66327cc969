import fc from 'fast-check';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlServer, type ControlHandlers } from '../../../../agent/api/control-server.js';
import { ArmoryError } from '../../../../common/errors/armory-error.js';
import { ControlClient } from '../../../../common/node/rpc-client.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-cs-'));
const sock = path.join(dir, 'agent.sock');
const ok = { message: 'ok' };
const handlers = {
  hello: () => ({ protocol: 1 as const, agentVersion: 'test', pid: process.pid, startedAt: 'now' }),
  status: () => ({ agent: { pid: 1, startedAt: 'now', configFile: 'x', configVersion: '1' }, services: [] }),
  start: () => ok,
  stop: () => ok,
  restart: () => ok,
  reload: () => ({ message: 'ok', started: [], stopped: [], restarted: [] }),
  logs: () => ({ lines: [] }),
  events: () => ({ events: [] }),
  shutdown: () => ok,
  'config.push': () => ({ version: 1, message: 'ok', started: [], stopped: [], restarted: [] }),
  metrics: () => ({ text: '' }),
  'failover.status': () => ({ groups: [] }),
  'failover.drain': () => ok,
  'failover.clear': () => ok,
  'failover.move': () => ok,
  'job.run': (): never => {
    throw new ArmoryError('JOB_E_UNKNOWN');
  },
  'job.replica': (): never => {
    throw new ArmoryError('JOB_E_UNKNOWN');
  },
  'job.results': () => ({ runs: [] }),
  'checkpoint.put': () => ({ have: 0, stored: false }),
  'mirror.apply': () => ({}),
  'mirror.list': () => ({ files: [], more: false }),
  'drill.inject': () => ({ message: 'injected', at: new Date(0).toISOString(), pgrp: null, undo: [] }),
} satisfies ControlHandlers;
const server = new ControlServer(sock, handlers);

beforeAll(() => server.listen());
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Sends one line and returns the parsed reply. */
function exchange(line: string): Promise<{ ok: boolean; error?: { code: string } }> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(sock);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        s.destroy();
        resolve(JSON.parse(buf.slice(0, nl)) as { ok: boolean; error?: { code: string } });
      }
    });
    s.on('error', reject);
    s.write(`${line.replace(/\n/g, ' ')}\n`);
  });
}

describe('the control server takes anything without falling over', () => {
  it('answers every line, valid or not, with a reply (an error reply carries a known code)', async () => {
    const line = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json(),
      fc.record({ id: fc.nat(), method: fc.constantFrom('status', 'stop', 'nope', 'config.push', ''), params: fc.anything() }).map((r) => JSON.stringify(r)),
    );
    await fc.assert(
      fc.asyncProperty(line, async (l) => {
        fc.pre(l.trim().length > 0);
        const reply = await exchange(l);
        if (!reply.ok) expect(reply.error?.code).toMatch(/^(WIRE_E_|RPC_E_)/);
      }),
      { numRuns: 150 },
    );
    const c = await ControlClient.connect(sock);
    expect((await c.call('hello', { protocol: 1 })).agentVersion).toBe('test');
    c.close();
  });
});
