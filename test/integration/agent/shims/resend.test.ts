import { describe, expect, it } from 'vitest';
import { canConnect, freePort } from '../../../helpers/agent-harness.js';
import { useEnrolledAgent } from '../../../helpers/enrolled-agent.js';
import { sleep, waitFor } from '../../../helpers/wait.js';

const agent = useEnrolledAgent('resend');

/** The pid redis says it has (INFO server), asked directly, not through the shim. */
async function redisPid(port: number): Promise<number> {
  const c = await agent.redis(port);
  c.send('INFO', 'server');
  const m = await waitFor('redis to say its pid', () => /process_id:(\d+)/.exec(c.got.text));
  c.socket.destroy();
  return Number(m[1]);
}

describe('a shim with onMove resend in front of redis, on an enrolled agent', () => {
  it('a write redis had not answered when it was killed is answered by the restarted redis on the same client connection; a connection redis closes itself is closed', async () => {
    const redisPort = freePort();
    const listen = freePort();
    const shimPort = freePort();
    const h = await agent.run(
      (agentPort, dir) => `nodes:
  n1: { address: 127.0.0.1, agentPort: ${agentPort} }
services:
  redis:
    command: /usr/bin/redis-server
    args: ["--port", "${redisPort}", "--bind", "127.0.0.1", "--dir", ${JSON.stringify(dir)}, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"]
    cwd: /
    restart: { backoff: { initial: 50ms } }
    # Ready once redis serves: it accepts connections while it loads its data and answers -LOADING
    # then (redis-cli -e exits 1 on an error reply).
    probes:
      - exec: [/usr/bin/redis-cli, -e, -p, "${redisPort}", PING]
        interval: 100ms
        timeout: 2s
    placement: { nodes: [n1] }
    shims:
      - listen: "127.0.0.1:${listen}"
        target: "127.0.0.1:${redisPort}"
        port: ${shimPort}
        clients: [n1]
        heartbeat: 100ms
        onMove: resend
`,
    );
    await waitFor('redis and the shim to accept connections', async () => (await canConnect(redisPort)) && (await canConnect(listen)), { timeoutMs: 20_000 });

    const c = await agent.redis(listen);
    c.send('SET', 'k1', 'answered-before');
    await waitFor('the reply to the first write', () => c.got.text === '+OK\r\n', { timeoutMs: 10_000 });

    // redis hangs (SIGSTOP), is sent a write it cannot answer, and is killed.
    const first = await redisPid(redisPort);
    process.kill(first, 'SIGSTOP');
    c.send('SET', 'k2', 'sent-while-redis-hung');
    await sleep(300);
    expect(c.got.text).toBe('+OK\r\n');
    process.kill(first, 'SIGKILL');

    // The agent restarts redis; the session gives it the unanswered write; the client just waited.
    await waitFor('the reply to the write redis did not answer', () => c.got.text === '+OK\r\n+OK\r\n', { timeoutMs: 15_000 }).catch(async (e: Error) => {
      const journal = (await h.events()).filter((ev) => ev.kind === 'shim' || ev.service === 'redis').map((ev) => `${ev.time} ${ev.kind}: ${ev.reason}`);
      throw new Error(`${e.message}; the client had ${JSON.stringify(c.got)}; the agent journaled:\n${journal.join('\n')}`);
    });
    expect(c.got.closed).toBe(false);
    expect(c.got.errors).toEqual([]);
    expect(await redisPid(redisPort)).not.toBe(first);
    c.send('MGET', 'k1', 'k2');
    await waitFor('both keys read back through the same connection', () => c.got.text.endsWith('*2\r\n$15\r\nanswered-before\r\n$21\r\nsent-while-redis-hung\r\n'), { timeoutMs: 10_000 });
    const events = await h.events();
    expect(events.some((e) => e.kind === 'shim' && /goes on over a new connection to the service/.test(e.reason))).toBe(true);

    // redis closes a connection on its own (QUIT) while it goes on running: the client sees the close.
    c.send('QUIT');
    await waitFor('the close after QUIT', () => c.got.closed, { timeoutMs: 10_000 });
    expect(c.got.text.endsWith('+OK\r\n')).toBe(true);
  }, 90_000);
});
