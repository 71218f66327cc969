import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeAll } from 'vitest';
import { ControlClient } from '../../common/node/rpc-client.js';
import { signConfig } from '../../main/core/config-signing.js';
import { createClusterCa } from '../../main/core/pki/cluster-ca.js';
import { issueCertificate } from '../../main/core/pki/issue-certificate.js';
import { AgentHarness, freePort } from './agent-harness.js';

export interface EnrolledPki {
  cluster: string;
  caPem: string;
  agent: { certPem: string; keyPem: string };
  manager: Parameters<typeof signConfig>[1];
}

/** A cluster CA with the certificates of agent n1 (on loopback) and of its manager. */
export async function enrolledPki(cluster: string): Promise<EnrolledPki> {
  const ca = await createClusterCa({ clusterName: cluster });
  return {
    cluster,
    caPem: ca.certPem,
    agent: await issueCertificate(ca, { role: 'agent', name: 'n1', ipAddresses: ['127.0.0.1'] }),
    manager: await issueCertificate(ca, { role: 'manager', name: 'manager' }),
  };
}

/**
 * An enrolled agent (node n1 on loopback) running what a configuration signed by its manager
 * places on it: `yaml` gets the agent's port and a scratch folder (removed with the agent's).
 * The caller disposes of the harness.
 */
export async function enrolledAgentRunning(pki: EnrolledPki, yaml: (agentPort: number, dir: string) => string): Promise<AgentHarness> {
  const harness = new AgentHarness('');
  const tlsDir = path.join(harness.stateDir, 'tls');
  fs.mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(tlsDir, 'ca.pem'), pki.caPem);
  fs.writeFileSync(path.join(tlsDir, 'node.pem'), pki.agent.certPem);
  fs.writeFileSync(path.join(tlsDir, 'node.key'), pki.agent.keyPem, { mode: 0o600 });
  const port = freePort();
  try {
    await harness.startWith(['run', '--listen', `127.0.0.1:${port}`]);
    const manager = await ControlClient.connectTls({ host: '127.0.0.1', port, caPem: pki.caPem, certPem: pki.manager.certPem, keyPem: pki.manager.keyPem, expectName: 'n1' });
    try {
      await manager.call('config.push', { config: signConfig({ version: 1, issuedAt: new Date().toISOString(), cluster: pki.cluster, yaml: yaml(port, harness.dir) }, pki.manager) });
    } finally {
      manager.close();
    }
  } catch (e) {
    await harness.dispose();
    throw e;
  }
  return harness;
}

const resp = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/** A redis client (RESP) connected to `port`: what it received so far, as text; `sockets` collects it for clean-up. */
export async function redisClient(port: number, sockets: net.Socket[]) {
  const s = net.connect({ host: '127.0.0.1', port });
  sockets.push(s);
  const got = { text: '', closed: false, errors: [] as string[] };
  s.on('data', (d: Buffer) => (got.text += d.toString()));
  s.on('close', () => (got.closed = true));
  s.on('error', (e) => got.errors.push(e.message));
  await new Promise<void>((r, j) => {
    s.once('connect', () => r());
    s.once('error', j);
  });
  return { socket: s, got, send: (...args: string[]) => s.write(resp(...args)) };
}

/**
 * For a test file: a cluster CA made once (beforeAll), and after each test its redis clients
 * closed and its agent disposed (afterEach). `run` starts an enrolled agent running `yaml`;
 * `redis` connects a client that the clean-up closes.
 */
export function useEnrolledAgent(cluster: string) {
  let pki: EnrolledPki | undefined;
  let harness: AgentHarness | undefined;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    pki = await enrolledPki(cluster);
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await harness?.dispose();
    harness = undefined;
  });
  return {
    run: async (yaml: (agentPort: number, dir: string) => string): Promise<AgentHarness> => {
      if (!pki) throw new Error('useEnrolledAgent: run() before beforeAll');
      harness = await enrolledAgentRunning(pki, yaml);
      return harness;
    },
    redis: (port: number) => redisClient(port, sockets),
  };
}
