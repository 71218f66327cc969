import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canConnect, freePort } from '../../../helpers/agent-harness.js';
import { useEnrolledAgent } from '../../../helpers/enrolled-agent.js';
import { sleep, waitFor } from '../../../helpers/wait.js';

const agent = useEnrolledAgent('waitmirror');
const redisClient = (port: number) => agent.redis(port);

/** Every file under `dir` (recursively, the mirror's staging left out) that contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => {
    if (f.split('/').includes('.armory-mirror')) return false;
    try {
      return fs.readFileSync(path.join(dir, f)).includes(needle);
    } catch {
      return false; // a folder, or a file renamed meanwhile
    }
  });
}

describe('a shim with waitForMirror in front of redis (AOF fsynced per write) mirrored to a local folder', () => {
  it('gives a reply while the mirror target is there; with no target up it holds the reply to a write until the target is back, and the write is then in the copy', async () => {
    const redisPort = freePort();
    const listen = freePort();
    const shimPort = freePort();
    let data = '';
    let disk = '';
    const harness = await agent.run((agentPort, dir) => {
      data = path.join(dir, 'redis-data');
      disk = path.join(dir, 'disk2');
      fs.mkdirSync(data);
      fs.mkdirSync(disk);
      return `nodes:
  n1: { address: 127.0.0.1, agentPort: ${agentPort} }
services:
  redis:
    command: /usr/bin/redis-server
    args: ["--port", "${redisPort}", "--bind", "127.0.0.1", "--dir", ${JSON.stringify(data)}, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"]
    cwd: /
    placement: { nodes: [n1] }
    mirror: { folders: [${JSON.stringify(data)}], to: ${JSON.stringify(disk)}, standbys: false }
    shims:
      - listen: "127.0.0.1:${listen}"
        target: "127.0.0.1:${redisPort}"
        port: ${shimPort}
        clients: [n1]
        waitForMirror: true
`;
    });
    await waitFor('redis and the shim to accept connections', async () => (await canConnect(redisPort)) && (await canConnect(listen)), { timeoutMs: 20_000 });
    const copy = path.join(disk, data);

    // The target is there: a write is answered, and the copy has it by then.
    const c = await redisClient(listen);
    c.send('SET', 'k1', 'before-the-target-went');
    await waitFor('the reply to the first write', () => c.got.text === '+OK\r\n', { timeoutMs: 20_000 });
    expect(filesContaining(copy, 'before-the-target-went').length).toBeGreaterThan(0);

    // No target up: the folder `to` is gone. A write is made (redis fsynced it) but not answered.
    fs.renameSync(disk, `${disk}.away`);
    c.send('SET', 'k2', 'while-no-target-was-up');
    await waitFor('redis to have the write', () => filesContaining(data, 'while-no-target-was-up').length > 0, { timeoutMs: 10_000 });
    await sleep(1500);
    expect(c.got.text).toBe('+OK\r\n');
    expect(c.got.closed).toBe(false);

    // The target is back: the copy catches up, and only then does the reply go out.
    fs.renameSync(`${disk}.away`, disk);
    await waitFor('the held reply', () => c.got.text === '+OK\r\n+OK\r\n', { timeoutMs: 30_000 });
    expect(filesContaining(copy, 'while-no-target-was-up').length).toBeGreaterThan(0);
    const events = await harness.events();
    expect(events.filter((e) => e.kind === 'shim' && e.detail?.code === 'SHIM_E_MIRROR')).toEqual([]);
  }, 90_000);
});
