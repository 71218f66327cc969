import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certifiedNodeRecord } from '../../../../main/core/inventory/node-record.js';
import { Manager } from '../../../../main/core/manager.js';

// A node whose agent completes mutual TLS and then never answers (its event loop stuck after the
// handshake, or its link cut without a reset): every manager call to it ends within its bound, with
// a clear message, instead of holding the caller (a GUI button, the CLI) for ever.
let home = '';
let manager: Manager;
let server: tls.Server;
const sockets = new Set<tls.TLSSocket>();

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-silent-'));
  manager = new Manager({ ARMORY_HOME: home });
  await manager.open();
  // Applied before the node is enrolled (nothing to push it to).
  await manager.apply('jobs:\n  here:\n    command: /bin/true\n    timeout: 1s\n    retries: 0\n');
  const cert = await manager.issueNodeCertificate('mute', '127.0.0.1');
  server = tls.createServer({ key: cert.keyPem, cert: cert.certPem, ca: manager.caPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    // Reads every request, answers none.
    s.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const record = certifiedNodeRecord({ address: '127.0.0.1', agentPort: (server.address() as AddressInfo).port, certPem: cert.certPem, install: { kind: 'test' } });
  await manager.inventory.update((d) => (d.nodes.mute = record));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  manager.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('an agent that takes calls and never answers', () => {
  it('drain: refused after 5 s with the node and the reason; no connection is left open', async () => {
    const t0 = Date.now();
    await expect(manager.drain('mute', true)).rejects.toMatchObject({ code: 'AGENT_E_UNREACHABLE', message: 'mute: no answer within 5000 ms [AGENT_E_UNREACHABLE]' });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(4900);
    expect(took).toBeLessThan(15_000);
    await expect.poll(() => sockets.size, { timeout: 5000 }).toBe(0);
  }, 30_000);

  it('job run: refused once the job\'s own bound has passed (its timeout per attempt, and a grace)', async () => {
    manager.jobs.answerGraceMs = 500;
    const t0 = Date.now();
    await expect(manager.jobs.run('here', { node: 'mute' })).rejects.toMatchObject({ code: 'AGENT_E_UNREACHABLE', message: 'node mute gave no answer for job here within 1500 ms' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
  }, 30_000);

  it('status: the node shows as unreachable, with the reason, within the status bound', async () => {
    const [s] = await manager.status();
    expect(s).toMatchObject({ node: 'mute', reachable: false, error: 'no answer within 5000 ms' });
  }, 30_000);
});
