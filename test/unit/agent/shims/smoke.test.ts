import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { shimPair, shimPki, tcpServer } from '../../../helpers/shim-rig.js';

let pki: Awaited<ReturnType<typeof shimPki>>;
beforeAll(async () => {
  pki = await shimPki();
});

it('echoes through the shims', async () => {
  const echo = await tcpServer((s) => s.pipe(s));
  const pair = await shimPair(pki, echo.port);
  const c = net.connect({ host: '127.0.0.1', port: pair.client.port });
  const got: Buffer[] = [];
  c.on('data', (d: Buffer) => got.push(d));
  c.write('hello');
  await new Promise((r) => setTimeout(r, 500));
  expect(Buffer.concat(got).toString()).toBe('hello');
  pair.relay.cut();
  c.write(' world');
  await new Promise((r) => setTimeout(r, 1500));
  expect(Buffer.concat(got).toString()).toBe('hello world');
  console.log(pair.events);
  c.end();
  await new Promise((r) => c.on('close', r));
  await pair.stop();
  await echo.close();
});
afterAll(() => undefined);
