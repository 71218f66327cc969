import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { ControlClient } from '../../../common/node/rpc-client.js';
import { signConfig, type Signer } from '../../../main/core/config-signing.js';
import { createClusterCa } from '../../../main/core/pki/cluster-ca.js';
import { issueCertificate } from '../../../main/core/pki/issue-certificate.js';
import { AgentHarness, freePort } from '../../helpers/agent-harness.js';
import { waitFor } from '../../helpers/wait.js';

interface Pki {
  ca: { certPem: string; keyPem: string };
  agent: { certPem: string; keyPem: string };
  manager: Signer;
  peer: { certPem: string; keyPem: string };
}

let pki: Pki;
let foreign: Pki;
async function makePki(cluster: string): Promise<Pki> {
  const ca = await createClusterCa({ clusterName: cluster });
  return {
    ca,
    agent: await issueCertificate(ca, { role: 'agent', name: 'n1', ipAddresses: ['127.0.0.1'] }),
    manager: await issueCertificate(ca, { role: 'manager', name: 'manager' }),
    peer: await issueCertificate(ca, { role: 'agent', name: 'n2', ipAddresses: ['127.0.0.1'] }),
  };
}

beforeAll(async () => {
  pki = await makePki('test');
  foreign = await makePki('other');
});

let h: AgentHarness | undefined;
const clients: ControlClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await h?.dispose();
  h = undefined;
});

async function enrolledAgent(): Promise<{ port: number }> {
  h = new AgentHarness('');
  const tlsDir = path.join(h.stateDir, 'tls');
  fs.mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(tlsDir, 'ca.pem'), pki.ca.certPem);
  fs.writeFileSync(path.join(tlsDir, 'node.pem'), pki.agent.certPem);
  fs.writeFileSync(path.join(tlsDir, 'node.key'), pki.agent.keyPem, { mode: 0o600 });
  const port = freePort();
  await h.startWith(['run', '--listen', `127.0.0.1:${port}`]);
  return { port };
}

async function connect(port: number, as: { certPem: string; keyPem: string }, caPem = pki.ca.certPem): Promise<ControlClient> {
  const c = await ControlClient.connectTls({ host: '127.0.0.1', port, caPem, certPem: as.certPem, keyPem: as.keyPem, expectName: 'n1' });
  clients.push(c);
  return c;
}

const yaml = (extra = '') => `nodes:
  n1: { address: 127.0.0.1 }
  n2: { address: 127.0.0.2 }
services:
  here:
    command: /bin/sleep
    args: ["1000"]
    placement: { nodes: [n1, n2] }
  elsewhere:
    command: /bin/sleep
    args: ["1000"]
    placement: { nodes: [n2] }
${extra}`;

const signed = (version: number, text: string, signer: Signer = pki.manager) =>
  signConfig({ version, issuedAt: new Date().toISOString(), cluster: 'test', yaml: text }, signer);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof ArmoryError ? e.code : `not coded: ${(e as Error).message}`;
  }
  return 'no error';
}

describe('an enrolled agent: mutual TLS and configurations signed by its manager', () => {
  it('runs what a signed configuration places on it, persists it, and refuses stale, foreign, altered or unsigned ones', async () => {
    const { port } = await enrolledAgent();
    const manager = await connect(port, pki.manager);
    const pushed = await manager.call('config.push', { config: signed(1, yaml()) });
    expect(pushed.version).toBe(1);
    expect(pushed.started).toEqual(['here']);
    const here = await h!.waitService('here', 'running', (s) => s.state === 'running');
    expect((await h!.status()).map((s) => s.name)).toEqual(['here']);

    expect(await codeOf(manager.call('config.push', { config: signed(1, yaml()) }))).toBe('AGENT_E_CONFIG_STALE');
    expect(await codeOf(manager.call('config.push', { config: signed(2, yaml(), foreign.manager) }))).toBe('AGENT_E_CONFIG_SIGNER');
    const altered = signed(2, yaml());
    altered.payload = altered.payload.replace('"version":2', '"version":3');
    expect(await codeOf(manager.call('config.push', { config: altered }))).toBe('AGENT_E_CONFIG_SIGNATURE');
    expect(await codeOf(manager.call('config.push', { config: { yaml: yaml() } }))).toBe('AGENT_E_CONFIG_UNSIGNED');
    const notAManager = signConfig({ version: 2, issuedAt: new Date().toISOString(), cluster: 'test', yaml: yaml() }, pki.peer);
    expect(await codeOf(manager.call('config.push', { config: notAManager }))).toBe('AGENT_E_CONFIG_SIGNER');
    const invalid = await codeOf(manager.call('config.push', { config: signed(2, 'services:\n  x:\n    comand: y\n') }));
    expect(invalid).toBe('CONFIG_E_INVALID');
    expect((await h!.service('here')).pid).toBe(here.pid);
    const refusals = (await h!.events()).filter((e) => e.kind === 'config' && /pushed configuration refused/.test(e.reason));
    expect(refusals.length).toBeGreaterThanOrEqual(6);

    // The configuration survives an agent restart: it was persisted before it was applied.
    await h!.killAgent();
    await h!.startWith(['run', '--listen', `127.0.0.1:${port}`]);
    const after = await h!.service('here');
    expect(after.pid).toBe(here.pid);
    expect(after.reason).toMatch(/re-adopted/);
    const again = await connect(port, pki.manager);
    const v2 = await again.call('config.push', { config: signed(2, yaml().replace('"1000"', '"2000"')) });
    expect(v2.restarted).toEqual(['here']);
    const metrics = await again.call('metrics');
    expect(metrics.text).toMatch(/armory_service_ready\{service="here"\} 1/);
  });

  it('lets a peer agent look but not act, and shuts out certificates of another cluster', async () => {
    const { port } = await enrolledAgent();
    const peer = await connect(port, pki.peer);
    expect((await peer.call('status')).services).toEqual([]);
    expect(await codeOf(peer.call('config.push', { config: signed(1, yaml()) }))).toBe('AGENT_E_FORBIDDEN');
    expect(await codeOf(peer.call('shutdown'))).toBe('AGENT_E_FORBIDDEN');

    // A client of another cluster does not get a single answer.
    const outcome = await codeOf(
      (async () => {
        const c = await connect(port, foreign.manager);
        await c.call('status');
      })(),
    );
    expect(outcome).toBe('AGENT_E_UNREACHABLE');
    // Nor does a client that trusts another CA accept this agent.
    expect(await codeOf(connect(port, foreign.manager, foreign.ca.certPem))).toBe('AGENT_E_UNREACHABLE');
    await waitFor('the agent to still answer its manager', async () => (await (await connect(port, pki.manager)).call('hello', { protocol: 1 })).protocol === 1);
  });
});
