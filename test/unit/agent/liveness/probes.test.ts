import fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { probeSchema } from '../../../../common/config/probes.js';
import { probeLabel, runProbe, type ProbeResult } from '../../../../agent/liveness/probes.js';
import { closedPort, startHttpServer, startStalledListener, startTcpServer, type LocalServer } from './local-servers.js';

const probe = (input: Record<string, unknown>) => probeSchema.parse(input);

/** Runs a probe and measures how long it took to settle. */
async function timed(input: Record<string, unknown>): Promise<ProbeResult & { ms: number }> {
  const started = Date.now();
  const r = await runProbe(probe(input));
  return { ...r, ms: Date.now() - started };
}

const servers: LocalServer[] = [];
async function track<S extends LocalServer>(s: Promise<S>): Promise<S> {
  const server = await s;
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('probeLabel', () => {
  it.each([
    [{ tcp: '127.0.0.1:6379' }, 'tcp 127.0.0.1:6379'],
    [{ tcp: '[::1]:80' }, 'tcp [::1]:80'],
    [{ tcp: '127.0.0.1:6379', send: 'PING\r\n', expect: '+PONG' }, 'tcp 127.0.0.1:6379 send "PING\\r\\n" expect "+PONG"'],
    [{ tcp: '127.0.0.1:25', expect: '220 ' }, 'tcp 127.0.0.1:25 expect "220 "'],
    [{ http: 'http://127.0.0.1:8080/health' }, 'http http://127.0.0.1:8080/health'],
    [{ exec: ['/usr/bin/redis-cli', 'ping'] }, 'exec /usr/bin/redis-cli ping'],
    [{ exec: ['/bin/true'] }, 'exec /bin/true'],
  ])('names %j as %j', (input, label) => {
    expect(probeLabel(probe(input))).toBe(label);
  });
});

describe('the tcp probe\'s send and expect', () => {
  it('are refused when send comes without expect, or either is empty or too long', () => {
    const issues = (input: Record<string, unknown>) => probeSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues({ tcp: '127.0.0.1:1', send: 'PING\r\n' }).join()).toContain('expect: a tcp probe that sends needs expect');
    expect(issues({ tcp: '127.0.0.1:1', send: '', expect: 'x' }).join()).toContain('give the text to send');
    expect(issues({ tcp: '127.0.0.1:1', expect: '' }).join()).toContain('give the text the answer must contain');
    expect(issues({ tcp: '127.0.0.1:1', expect: 'x'.repeat(4097) })).not.toEqual([]);
    expect(issues({ tcp: '127.0.0.1:1', send: 'PING\r\n', expect: '+PONG' })).toEqual([]);
  });

  /** A server that answers `PING\r\n` with `reply` (written in the pieces given), once per request. */
  const pinged = (...reply: string[]) =>
    track(
      startTcpServer((s) => {
        let got = '';
        s.on('data', (d) => {
          got += d.toString();
          if (!got.includes('PING\r\n')) return;
          got = '';
          reply.forEach((piece, i) => setTimeout(() => s.write(piece), i * 20));
        });
      }),
    );

  it('passes once the answer holds the expected text, even split across reads', async () => {
    const server = await pinged('+PO', 'NG\r\n');
    const target = `127.0.0.1:${server.port}`;
    expect(await runProbe(probe({ tcp: target, send: 'PING\r\n', expect: '+PONG' }))).toEqual({ ok: true, detail: `${target} answered "+PONG"` });
  });

  it('fails at once when the program answers something else and closes, saying what it said', async () => {
    const server = await track(startTcpServer((s) => s.on('data', () => s.end('-LOADING Redis is loading the dataset in memory\r\n'))));
    const r = await timed({ tcp: `127.0.0.1:${server.port}`, send: 'PING\r\n', expect: '+PONG', timeout: '5s' });
    expect(r.ok).toBe(false);
    expect(r.detail).toBe(`127.0.0.1:${server.port}: closed the connection without answering "+PONG"; it said "-LOADING Redis is loading the dataset in memory\\r\\n"`);
    expect(r.ms).toBeLessThan(1000);
  });

  it('fails at its timeout when the program accepts the connection and never answers (hung)', async () => {
    const server = await track(startTcpServer());
    const r = await timed({ tcp: `127.0.0.1:${server.port}`, send: 'PING\r\n', expect: '+PONG', timeout: '200ms' });
    expect(r).toMatchObject({ ok: false, detail: `127.0.0.1:${server.port}: no answer with "+PONG" within 200ms` });
    expect(r.ms).toBeGreaterThanOrEqual(190);
    expect(r.ms).toBeLessThan(1000);
  });

  it('fails when the answer goes on past 64 KB without the text, not at its timeout', async () => {
    const server = await track(startTcpServer((s) => s.on('data', () => s.write('x'.repeat(70 * 1024)))));
    const r = await timed({ tcp: `127.0.0.1:${server.port}`, send: 'PING\r\n', expect: '+PONG', timeout: '5s' });
    expect(r).toMatchObject({ ok: false, detail: `127.0.0.1:${server.port}: no "+PONG" in the first 65536 bytes of its answer` });
    expect(r.ms).toBeLessThan(1000);
  });

  it('without send, reads what the program says first (a banner)', async () => {
    const server = await track(startTcpServer((s) => s.write('220 mail.example ESMTP\r\n')));
    const target = `127.0.0.1:${server.port}`;
    expect(await runProbe(probe({ tcp: target, expect: '220 ' }))).toEqual({ ok: true, detail: `${target} answered "220 "` });
    expect((await runProbe(probe({ tcp: target, expect: '421 ', timeout: '200ms' }))).detail).toBe(`${target}: no answer with "421 " within 200ms; it said "220 mail.example ESMTP\\r\\n"`);
  });
});

describe('runProbe tcp', () => {
  it('passes when the connection is accepted', async () => {
    const server = await track(startTcpServer());
    const target = `127.0.0.1:${server.port}`;
    expect(await runProbe(probe({ tcp: target }))).toEqual({ ok: true, detail: `connected to ${target}` });
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    const target = `127.0.0.1:${await closedPort()}`;
    const r = await timed({ tcp: target, timeout: '5s' });
    expect(r).toMatchObject({ ok: false, detail: `${target}: ECONNREFUSED` });
    expect(r.ms).toBeLessThan(1000);
  });

  it('gives up at its timeout when the connection is never established', async () => {
    const stalled = await track(startStalledListener());
    const target = `127.0.0.1:${stalled.port}`;
    const r = await timed({ tcp: target, timeout: '200ms' });
    expect(r).toMatchObject({ ok: false, detail: `no connection to ${target} within 200ms` });
    expect(r.ms).toBeGreaterThanOrEqual(190);
    expect(r.ms).toBeLessThan(1000);
  });
});

describe('runProbe http', () => {
  /** A server answering every request with this status and body. */
  const answering = (status: number, body = '') =>
    track(
      startHttpServer((_req, res) => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(body);
      }),
    );

  it.each([
    [200, '200-399', true],
    [302, '200-399', true],
    [399, '200-399', true],
    [400, '200-399', false],
    [404, '200-399', false],
    [204, '204', true],
    [200, '204', false],
    [503, '500-599', true],
  ])('status %d against %s: ok=%s', async (status, range, ok) => {
    const server = await answering(status);
    const url = server.url('/health');
    const r = await runProbe(probe({ http: url, status: range }));
    expect(r.ok).toBe(ok);
    expect(r.detail).toBe(ok ? `${url}: status ${status}` : `${url}: status ${status}, wanted ${range}`);
  });

  it('says which status came and which was wanted (default 200-399)', async () => {
    const server = await answering(500);
    expect(await runProbe(probe({ http: server.url() }))).toEqual({ ok: false, detail: `${server.url()}: status 500, wanted 200-399` });
  });

  it('passes when the body contains the text', async () => {
    const server = await answering(200, 'redis: PONG, all good');
    const r = await runProbe(probe({ http: server.url(), body: 'PONG' }));
    expect(r).toEqual({ ok: true, detail: `${server.url()}: status 200, body matches` });
  });

  it('finds the text across chunks', async () => {
    const server = await track(
      startHttpServer((_req, res) => {
        res.writeHead(200);
        res.write('... PO');
        setTimeout(() => res.end('NG ...'), 20);
      }),
    );
    expect((await runProbe(probe({ http: server.url(), body: 'PONG' }))).ok).toBe(true);
  });

  it('fails when the body does not contain the text', async () => {
    const server = await answering(200, 'starting');
    const r = await runProbe(probe({ http: server.url(), body: 'PONG' }));
    expect(r).toEqual({ ok: false, detail: `${server.url()}: body does not contain "PONG"` });
  });

  it('checks the status before the body', async () => {
    const server = await answering(500, 'PONG');
    const r = await runProbe(probe({ http: server.url(), body: 'PONG' }));
    expect(r).toEqual({ ok: false, detail: `${server.url()}: status 500, wanted 200-399` });
  });

  it('is bounded by its timeout when the server never answers', async () => {
    const server = await track(startHttpServer(() => undefined));
    const r = await timed({ http: server.url(), timeout: '200ms' });
    expect(r).toMatchObject({ ok: false, detail: `${server.url()}: no answer within 200ms` });
    expect(r.ms).toBeGreaterThanOrEqual(190);
    expect(r.ms).toBeLessThan(1000);
    expect(server.requests).toBe(1);
  });

  it('is bounded by its timeout when the body never ends', async () => {
    const server = await track(
      startHttpServer((_req, res) => {
        res.writeHead(200);
        res.write('still starting');
      }),
    );
    const r = await timed({ http: server.url(), body: 'PONG', timeout: '200ms' });
    expect(r).toMatchObject({ ok: false, detail: `${server.url()}: no answer within 200ms` });
    expect(r.ms).toBeLessThan(1000);
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/`;
    expect(await runProbe(probe({ http: url }))).toEqual({ ok: false, detail: `${url}: ECONNREFUSED` });
  });
});

/** Pids of live processes whose command line has this argument (zombies have none: they count as gone). */
function processesWithArg(arg: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').some((a) => a.includes(arg))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('runProbe exec', () => {
  /** A sleep duration nothing else on the machine uses, to find the probe's processes in /proc. */
  let marker = '';
  const uniqueSleep = () => (marker = `10.${process.pid}${Math.floor(Math.random() * 1e6)}`);

  afterEach(() => {
    // Leave nothing behind when a test failed.
    if (marker) for (const pid of processesWithArg(marker)) process.kill(pid, 'SIGKILL');
    marker = '';
  });

  it('passes on exit code 0', async () => {
    expect(await runProbe(probe({ exec: ['/bin/true'] }))).toEqual({ ok: true, detail: '/bin/true: exit 0' });
  });

  it('fails on a non-zero exit code', async () => {
    expect(await runProbe(probe({ exec: ['/bin/false'] }))).toEqual({ ok: false, detail: '/bin/false: exit code 1' });
  });

  it('adds the end of standard error to the detail', async () => {
    const r = await runProbe(probe({ exec: ['/bin/sh', '-c', 'echo "not ready yet" >&2; exit 3'] }));
    expect(r).toEqual({ ok: false, detail: '/bin/sh: exit code 3: not ready yet' });
  });

  it('fails with a clear detail when the command does not exist', async () => {
    const cmd = '/nonexistent/armory-probe-command';
    const r = await timed({ exec: [cmd, '--check'], timeout: '5s' });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(new RegExp(`^${cmd}: .*ENOENT`));
    expect(r.ms).toBeLessThan(1000);
  });

  it('kills a command that hangs at its timeout', async () => {
    const arg = uniqueSleep();
    const pending = timed({ exec: ['sleep', arg], timeout: '300ms' });
    await vi.waitFor(() => expect(processesWithArg(arg)).toHaveLength(1), { timeout: 2000, interval: 10 });
    const r = await pending;
    expect(r).toMatchObject({ ok: false, detail: 'sleep: did not finish within 300ms' });
    expect(r.ms).toBeLessThan(1000);
    await vi.waitFor(() => expect(processesWithArg(arg)).toEqual([]), { timeout: 2000, interval: 10 });
  });

  it('kills the whole process group of a command that hangs, not only the command', async () => {
    const arg = uniqueSleep();
    // The shell waits for a child of its own: killing the shell alone would leave the sleep running.
    const pending = timed({ exec: ['/bin/sh', '-c', `sleep ${arg} & wait`], timeout: '300ms' });
    await vi.waitFor(() => expect(processesWithArg(arg)).toHaveLength(2), { timeout: 2000, interval: 10 });
    const r = await pending;
    expect(r).toMatchObject({ ok: false, detail: '/bin/sh: did not finish within 300ms' });
    await vi.waitFor(() => expect(processesWithArg(arg)).toEqual([]), { timeout: 2000, interval: 10 });
  });
});
