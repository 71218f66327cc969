import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BridgeHost } from '../../../../main/bridge-host/bridge-host.js';
import { startConsoleServer, type ConsoleServer } from '../../../../main/console/console-server.js';
import { sampleStatus, stubHandlers } from '../../../helpers/bridge-stubs.js';

let server: ConsoleServer;
let dir: string;
const token = () => new URL(server.url).searchParams.get('token') as string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-console-'));
  fs.writeFileSync(path.join(dir, 'app.js'), 'console.log("gui")');
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Armory</title>');
  const host = new BridgeHost(stubHandlers({ services: { status: async () => sampleStatus(), restart: async (p) => ({ message: `restarted ${p.name}` }) } }));
  server = await startConsoleServer(host, { port: 0, rendererDir: dir });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Opens a WebSocket to the bridge; resolves with it once open, or with the HTTP status it was refused with. */
function open(url: string, origin: string | undefined): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

function call(ws: WebSocket, message: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    ws.once('message', (d) => resolve(JSON.parse(String(d)) as Record<string, unknown>));
    ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  });
}

describe('the console host', () => {
  it('listens on 127.0.0.1 only and serves the page only with the token, with a strict CSP', async () => {
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const refused = await fetch(`${server.origin}/app.js`);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toMatch(/Session token needed/);
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe/);
    const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const js = await fetch(`${server.origin}/app.js`, { headers: { cookie } });
    expect(await js.text()).toBe('console.log("gui")');
    // Another Host header (DNS rebinding) gets nothing either.
    const rebound = await new Promise<number>((resolve, reject) => {
      const u = new URL(server.url);
      http.get({ host: '127.0.0.1', port: u.port, path: `${u.pathname}${u.search}`, headers: { host: 'evil.example' } }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject);
    });
    expect(rebound).toBe(421);
  });

  it('refuses a WebSocket without the token, with a wrong token or from another origin', async () => {
    const ws = `${server.origin.replace('http', 'ws')}/bridge`;
    expect(await open(ws, server.origin)).toBe(401);
    expect(await open(`${ws}?token=${'x'.repeat(token().length)}`, server.origin)).toBe(401);
    expect(await open(`${ws}?token=${token()}`, 'http://evil.example')).toBe(401);
  });

  it('serves the bridge over the WebSocket: calls, bad arguments and garbage get coded answers', async () => {
    const ws = await open(`${server.origin.replace('http', 'ws')}/bridge?token=${token()}`, server.origin);
    if (typeof ws === 'number') throw new Error(`refused: ${ws}`);
    try {
      expect(await call(ws, { id: 1, method: 'services.restart', params: { node: 'local', name: 'web' } })).toEqual({ id: 1, ok: true, result: { message: 'restarted web' } });
      const bad = await call(ws, { id: 2, method: 'services.restart', params: { node: 'local', name: 7 } });
      expect(bad).toMatchObject({ id: 2, ok: false, error: { code: 'RPC_E_BAD_PARAMS' } });
      expect(await call(ws, 'this is not json')).toMatchObject({ id: null, ok: false, error: { code: 'BRIDGE_E_BAD_MESSAGE' } });
      expect(await call(ws, { id: 3, method: 'services.status' })).toMatchObject({ id: 3, ok: true });
    } finally {
      ws.close();
    }
  });
});
