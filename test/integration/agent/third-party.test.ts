import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentHarness, freePort } from '../../helpers/agent-harness.js';
import { waitFor } from '../../helpers/wait.js';

const REDIS = '/usr/bin/redis-server';
let h: AgentHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

/** Speaks RESP to redis: sends one command, returns the first reply line. */
function redis(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) {
        s.destroy();
        resolve(buf.split('\r\n')[0] as string);
      }
    });
    s.on('error', reject);
    s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

/** A redis of the service `cache` on `port`, without persistence, with the probes given (YAML list items). */
const cacheConfig = (port: number, probes?: string) => `services:
  cache:
    command: ${REDIS}
    args: ["--port", "${port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]
    cwd: /tmp
    stop: { signal: SIGTERM, grace: 5s }
${probes ? `    probes:\n${probes}\n` : ''}`;

describe.skipIf(!fs.existsSync(REDIS))('protecting a real third-party server (Debian redis-server)', () => {
  it('restarts redis after a crash, survives the agent dying, and stops it cleanly', async () => {
    const port = freePort();
    h = new AgentHarness(cacheConfig(port));
    await h.start();
    const first = await h.waitService('cache', 'running', (s) => s.state === 'running');
    await waitFor('redis to answer PING', async () => (await redis(port, 'PING')) === '+PONG');
    expect(await redis(port, 'SET', 'k', 'v')).toBe('+OK');

    process.kill(first.pid as number, 'SIGSEGV');
    const second = await h.waitService('cache', 'restarted', (s) => s.state === 'running' && s.pid !== first.pid);
    expect(second.lastExit).toBe('killed by SIGSEGV');
    await waitFor('redis to answer again', async () => (await redis(port, 'PING')) === '+PONG');

    await h.killAgent();
    expect(await redis(port, 'PING')).toBe('+PONG');
    await h.start();
    expect((await h.service('cache')).pid).toBe(second.pid);

    const logs = fs.readFileSync(`${h.stateDir}/logs/cache.log`, 'utf8');
    expect(logs).toMatch(/Ready to accept connections/);
  });

  it('a TCP probe that sends PING and expects +PONG sees redis hung (SIGSTOP) and has it restarted; no command is run to probe', async () => {
    const port = freePort();
    h = new AgentHarness(cacheConfig(port, `      - { tcp: "127.0.0.1:${port}", send: "PING\\r\\n", expect: "+PONG", interval: 100ms, timeout: 200ms, failures: 2 }`));
    await h.start();
    const first = await h.waitService('cache', 'ready', (s) => s.state === 'running' && s.ready, 20_000);
    // Up and answering: the probe keeps passing, nothing restarts.
    await new Promise((r) => setTimeout(r, 500));
    expect((await h.service('cache')).pid).toBe(first.pid);
    // A stopped redis still accepts connections (the kernel's backlog); it no longer answers.
    process.kill(first.pid as number, 'SIGSTOP');
    const second = await h.waitService('cache', 'restarted', (s) => s.state === 'running' && s.ready && s.pid !== first.pid, 20_000);
    expect(second.restarts).toBe(1);
    const hang = (await h.events()).find((e) => e.kind === 'liveness' && /hang detected/.test(e.reason));
    expect(hang?.reason).toContain(`tcp 127.0.0.1:${port} send "PING\\r\\n" expect "+PONG" failed 2/2: 127.0.0.1:${port}: no answer with "+PONG" within 200ms`);
    expect(await redis(port, 'PING')).toBe('+PONG');
  });
});
