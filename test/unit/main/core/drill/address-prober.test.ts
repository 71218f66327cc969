import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressProber } from '../../../../../main/core/drill/address-prober.js';
import { waitFor } from '../../../../helpers/wait.js';

let server: http.Server;
let port = 0;
let status = 200;

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    res.statusCode = status;
    res.end('x');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the probe of a service\'s address', () => {
  it('counts a GET answered out of range, and a refused connection, as failures', async () => {
    const get = new AddressProber({ host: '127.0.0.1', port, http: { path: '/', status: '200-399' } }, 10, 250).start();
    await waitFor('answered GETs', () => get.counts().ok >= 5);
    status = 503;
    await waitFor('failed GETs', () => get.counts().failed >= 5);
    status = 200;
    const samples = await get.stop();
    expect(samples.some((s) => s.ok) && samples.some((s) => !s.ok)).toBe(true);

    const closed = new AddressProber({ host: '127.0.0.1', port: 1 }, 10, 250).start();
    await waitFor('refused connects', () => closed.counts().failed >= 3);
    expect((await closed.stop()).every((s) => !s.ok)).toBe(true);
  });

  it('with expect, counts a program that accepts but does not answer (stopped) as down, and its answer as up', async () => {
    let answering = true;
    const sockets = new Set<net.Socket>();
    const tcp = net.createServer((c) => {
      sockets.add(c);
      c.on('error', () => undefined);
      c.on('data', () => answering && c.write('+PONG\r\n'));
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
    try {
      const p = new AddressProber({ host: '127.0.0.1', port: (tcp.address() as AddressInfo).port, expect: { send: 'PING\r\n', text: '+PONG' } }, 10, 100).start();
      await waitFor('answered probes', () => p.counts().ok >= 5);
      answering = false;
      await waitFor('unanswered probes', () => p.counts().failed >= 5);
      const samples = await p.stop();
      expect(samples.some((s) => s.ok) && samples.some((s) => !s.ok)).toBe(true);
    } finally {
      for (const c of sockets) c.destroy();
      await new Promise<void>((r) => tcp.close(() => r()));
    }
  });
});
