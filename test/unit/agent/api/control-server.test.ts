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
let lastApply: unknown = null;
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
  'mirror.apply': (p) => {
    lastApply = p;
    return {};
  },
  'mirror.list': () => ({ files: [], more: false }),
  'drill.inject': () => ({ message: 'injected', at: new Date(0).toISOString(), pgrp: null, undo: [] }),
} satisfies ControlHandlers;
const server = new ControlServer(sock, handlers);

beforeAll(() => server.listen());
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Sends one line (or, raw, the text as it is and a newline) and returns the parsed reply. */
function exchange(line: string, raw = false): Promise<{ ok: boolean; error?: { code: string; message?: string } }> {
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
    s.write(`${raw ? line : line.replace(/\n/g, ' ')}\n`);
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
        // (`~N` announces N raw bytes of an attachment: no reply until they come.)
        fc.pre(l.trim().length > 0 && !/^~\d/.test(l));
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

describe('attachments', () => {
  const op = { kind: 'append' as const, rel: 'aof', offset: 0, base: 'a'.repeat(64) };
  const params = { service: 'db', folder: '/var/lib/db', epoch: 1 };

  it('hands a method the raw bytes a request carries (the same as base64 from an older agent)', async () => {
    const c = await ControlClient.connect(sock);
    const data = Buffer.from('*1\r\n$4\r\nPING\r\n\n~3\n');
    await c.call('mirror.apply', { ...params, op: { ...op, data } });
    expect(Buffer.from((lastApply as { op: { data: Uint8Array } }).op.data).equals(data)).toBe(true);
    await c.call('mirror.apply', { ...params, op: { ...op, data: data.toString('base64') } });
    expect((lastApply as { op: { data: string } }).op.data).toBe(data.toString('base64'));
    // The connection goes on with plain requests after one with an attachment.
    expect((await c.call('hello', { protocol: 1 })).agentVersion).toBe('test');
    c.close();
  });

  it.each([
    ['a reference to an attachment it does not carry', /^WIRE_E_MALFORMED: .*attachment 1/, `~2\nab${JSON.stringify({ id: 1, method: 'mirror.apply', params: { ...params, op: { ...op, data: { $bin: 1 } } } })}`],
    ['bytes where a chunk of a file goes, too many of them', /^RPC_E_BAD_PARAMS: .*op\.data/, `~${512 * 1024 + 1}\n${'x'.repeat(512 * 1024 + 1)}${JSON.stringify({ id: 1, method: 'mirror.apply', params: { ...params, op: { ...op, data: { $bin: 0 } } } })}`],
    ['a malformed header', /^WIRE_E_MALFORMED: .*header/, '~12a'],
  ])('answers %s with an error reply: %s', async (_label, code, wire) => {
    const reply = await exchange(wire, true);
    expect(reply.ok).toBe(false);
    expect(`${reply.error?.code}: ${reply.error?.message}`).toMatch(code);
  });
});
