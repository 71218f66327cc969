import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { protocol } from 'electron';
import { APP_SCHEME, resolveAppFile } from './app-origin.js';
import { CONTENT_SECURITY_POLICY } from './content-policy.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/**
 * Serves `app://armory/…`: the files of the renderer bundle (its index.html, the same page the
 * console serves), each with the strict CSP; anything else is 404. Only GET.
 */
export function serveAppProtocol(rendererDir: string): void {
  const headers = (type: string) => ({ 'content-type': type, 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' });
  protocol.handle(APP_SCHEME, async (request) => {
    if (request.method !== 'GET') return new Response('method not allowed', { status: 405 });
    const file = resolveAppFile(rendererDir, request.url);
    if (file === null) return new Response('not found', { status: 404 });
    const type = TYPES[path.extname(file)];
    if (type === undefined) return new Response('not found', { status: 404 });
    try {
      return new Response(await fsp.readFile(file), { headers: headers(type) });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}
