import { ArmoryError } from '../../../common/errors/armory-error.js';
import { ControlClient } from '../../../common/node/rpc-client.js';
import { withTimeout } from '../../../common/node/with-timeout.js';
import { PROTOCOL_VERSION } from '../../../common/wire/protocol.js';
import type { CertificateAndKey } from '../pki/certificate-and-key.js';

export interface AgentHello {
  readonly agentVersion: string;
  readonly pid: number;
  readonly startedAt: string;
}

export interface WaitForAgentOptions {
  readonly host: string;
  readonly port: number;
  readonly node: string;
  readonly caPem: string;
  readonly manager: CertificateAndKey;
  readonly timeoutMs: number;
  /** Asked about once a second while waiting: a reason when the agent cannot come up any more (its keeper died), else null. */
  readonly stillStarting?: () => Promise<string | null>;
}

const ATTEMPT_TIMEOUT_MS = 2000;
const PAUSE_MS = 150;
const CHECK_EVERY_MS = 1000;

/** Asks the agent `hello` once over mutual TLS, as the manager, expecting the node's own certificate. */
export async function helloOverTls(o: Omit<WaitForAgentOptions, 'timeoutMs' | 'stillStarting'>, timeoutMs = ATTEMPT_TIMEOUT_MS): Promise<AgentHello> {
  const client = await ControlClient.connectTls({
    host: o.host,
    port: o.port,
    caPem: o.caPem,
    certPem: o.manager.certPem,
    keyPem: o.manager.keyPem,
    expectName: o.node,
    timeoutMs,
  });
  try {
    const r = await withTimeout(client.call('hello', { protocol: PROTOCOL_VERSION }), timeoutMs, () => client.close());
    return { agentVersion: r.agentVersion, pid: r.pid, startedAt: r.startedAt };
  } finally {
    client.close();
  }
}

/** Waits, bounded, until the agent answers `hello` over mutual TLS. */
export async function waitForAgent(o: WaitForAgentOptions): Promise<AgentHello> {
  const deadline = Date.now() + o.timeoutMs;
  let nextCheck = Date.now() + CHECK_EVERY_MS;
  let last = 'no attempt yet';
  for (let attempt = 0; attempt < 100_000; attempt++) {
    try {
      return await helloOverTls(o, Math.max(200, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now())));
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() >= deadline) break;
    if (o.stillStarting && Date.now() >= nextCheck) {
      nextCheck = Date.now() + CHECK_EVERY_MS;
      const why = await o.stillStarting();
      if (why !== null) throw new ArmoryError('ENROLL_E_AGENT_START', why, { node: o.node });
    }
    await new Promise((r) => setTimeout(r, PAUSE_MS));
  }
  const why = o.stillStarting ? await o.stillStarting().catch(() => null) : null;
  throw new ArmoryError('ENROLL_E_AGENT_START', `the agent did not answer over mutual TLS at ${o.host}:${o.port} within ${o.timeoutMs}ms (last: ${last})${why ? `; ${why}` : ''}`, {
    node: o.node,
  });
}
