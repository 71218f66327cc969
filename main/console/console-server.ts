import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { BridgeHost } from '../bridge-host/bridge-host.js';
import { contentSecurityPolicy, REFUSAL_PAGE } from './console-pages.js';
import { SESSION_COOKIE, SessionToken, tokenOf } from './session-token.js';
import { MAX_WS_MESSAGE_BYTES, webSocketPort } from './ws-port.js';

export interface ConsoleOptions {
  /** 0: any free port. */
  port: number;
  /** Where the bundled renderer is (dist/renderer). */
  rendererDir: string;
}

export interface ConsoleServer {
  /** The address to open, with the session token. */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

const STATIC: Readonly<Record<string, string>> = { '/app.js': 'text/javascript; charset=utf-8', '/app.css': 'text/css; charset=utf-8', '/app.js.map': 'application/json' };

/** What a WebSocket connection was admitted with; the bridge-host checks it on every message. */
interface ConsoleSession {
  readonly kind: 'console-session';
  readonly token: string;
}

/**
 * The headless console: the GUI over HTTP on 127.0.0.1 only, behind a random session token. A
 * request without the token (in `?token=` or the cookie set with the page) gets the refusal page
 * and nothing else; the WebSocket upgrade needs the token and our own origin; every bridge message
 * is checked against the session again by the bridge-host.
 */
export async function startConsoleServer(bridge: BridgeHost, options: ConsoleOptions): Promise<ConsoleServer> {
  const token = new SessionToken();
  let origin = '';
  const hostOk = (host: string | undefined) => host === origin.slice('http://'.length) || host === `localhost:${origin.split(':')[2]}`;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const headers = {
      'content-security-policy': contentSecurityPolicy(origin),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
    };
    if (!hostOk(req.headers.host) || !token.matches(tokenOf(url, req.headers.cookie)) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(hostOk(req.headers.host) ? 401 : 421, { ...headers, 'content-type': 'text/html; charset=utf-8' });
      return res.end(REFUSAL_PAGE);
    }
    const page = url.pathname === '/' || url.pathname === '/index.html';
    const type = page ? 'text/html; charset=utf-8' : STATIC[url.pathname];
    if (type) {
      fs.readFile(path.join(options.rendererDir, page ? 'index.html' : url.pathname.slice(1)), (err, body) => {
        if (err) {
          res.writeHead(404, { ...headers, 'content-type': 'text/plain' });
          return res.end(`not built: ${url.pathname} (npm run build)`);
        }
        // The page sets the session cookie, so that its script and style load without the token in their URLs.
        res.writeHead(200, { ...headers, 'content-type': type, ...(page ? { 'set-cookie': `${SESSION_COOKIE}=${token.value}; HttpOnly; SameSite=Strict; Path=/` } : {}) });
        res.end(body);
      });
      return;
    }
    res.writeHead(404, { ...headers, 'content-type': 'text/plain' });
    res.end('not found');
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const okOrigin = req.headers.origin === origin || req.headers.origin === `http://localhost:${origin.split(':')[2]}`;
    if (url.pathname !== '/bridge' || !hostOk(req.headers.host) || !okOrigin || !token.matches(tokenOf(url, req.headers.cookie))) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session: ConsoleSession = { kind: 'console-session', token: token.value };
      bridge.attach(webSocketPort(ws, session), (o) => ((o as ConsoleSession | undefined)?.kind === 'console-session' && token.matches((o as ConsoleSession).token) ? null : 'this connection has no valid console session'));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new ArmoryError('CONSOLE_E_LISTEN', `cannot listen on 127.0.0.1:${options.port}: ${e.code ?? e.message}`)));
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${token.value}`,
    origin,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
