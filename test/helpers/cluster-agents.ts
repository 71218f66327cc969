import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../common/node/fsync.js';
import { Manager } from '../../main/core/manager.js';
import { certifiedNodeRecord } from '../../main/core/inventory/node-record.js';
import { TestNetwork } from './netns.js';

const AGENT = path.resolve(import.meta.dirname, '../../bin/armory-agent.js');

/** The state directory of a test host's agent under a test's home folder. */
export const agentDir = (home: string, name: string) => path.join(home, 'hosts', name, 'var-lib-armory');

/**
 * Stands an agent up on a test host the way enrollment leaves it: certificate in DIR/tls, the
 * agent under the keeper in the host's namespace, the node in the manager's inventory. Returns the keeper.
 * `binds` are [source, mountpoint] pairs bind-mounted for the agent and its programs only (their
 * own copy of a folder that has the same path on every host).
 */
export async function standUpAgent(manager: Manager, net: TestNetwork, home: string, name: string, options: { binds?: [string, string][] } = {}): Promise<ChildProcess> {
  const host = net.host(name);
  const dir = agentDir(home, name);
  fs.mkdirSync(path.join(dir, 'tls'), { recursive: true, mode: 0o700 });
  const cert = await manager.issueNodeCertificate(name, host.address);
  await writeFileAtomic(path.join(dir, 'tls/ca.pem'), manager.caPem, 0o644);
  await writeFileAtomic(path.join(dir, 'tls/node.pem'), cert.certPem, 0o644);
  await writeFileAtomic(path.join(dir, 'tls/node.key'), cert.keyPem, 0o600);
  const keeper = net.spawn(name, process.execPath, [AGENT, 'keeper', '--listen', `${host.address}:7443`, '--state-dir', dir], options.binds ? { binds: options.binds } : {});
  const record = certifiedNodeRecord({ address: host.address, agentPort: 7443, certPem: cert.certPem, install: { kind: 'test' } });
  await manager.inventory.update((d) => (d.nodes[name] = record));
  await manager.waitForAgent(name, 20_000);
  return keeper;
}

/** The pid of a host's agent (from its pid file), or null. */
export function agentPid(home: string, name: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(agentDir(home, name), 'agent.pid'), 'utf8').trim().split(' ')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * A manager with enrolled agents on test hosts, for one test file: `up()` in beforeAll, `down()`
 * in afterAll (namespaces, processes and the temporary home go).
 */
export class ManagedHosts {
  readonly net = new TestNetwork();
  home = '';
  manager!: Manager;

  constructor(
    private readonly tag: string,
    private readonly names: readonly string[],
  ) {}

  async up(): Promise<void> {
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), `armory-${this.tag}-`));
    this.manager = new Manager({ ARMORY_HOME: path.join(this.home, 'manager') });
    await this.manager.open();
    this.net.up([...this.names]);
    await Promise.all(this.names.map((h) => standUpAgent(this.manager, this.net, this.home, h)));
  }

  down(): void {
    this.manager?.close();
    this.net.down();
    if (this.home) fs.rmSync(this.home, { recursive: true, force: true });
  }
}
