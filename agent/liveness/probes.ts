import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { splitHostPort, statusInRange, type ProbeConfig } from '../../common/config/probes.js';
import { MAX_ANSWER_BYTES, awaitAnswer } from '../../common/node/answer-matcher.js';

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

const MAX_BODY = 64 * 1024;

/** How a probe's text is shown in a label or a detail: quoted, with \r and \n visible. */
const shown = (text: string) => JSON.stringify(text);

/** A short name for a probe, used in status and events. */
export function probeLabel(p: ProbeConfig): string {
  if ('tcp' in p) return `tcp ${p.tcp}${p.send !== undefined ? ` send ${shown(p.send)}` : ''}${p.expect !== undefined ? ` expect ${shown(p.expect)}` : ''}`;
  if ('http' in p) return `http ${p.http}`;
  return `exec ${p.exec.join(' ')}`;
}

/** Runs one probe once; it always settles, by its own timeout at the latest. */
export function runProbe(p: ProbeConfig): Promise<ProbeResult> {
  if ('tcp' in p) return tcpProbe(p.tcp, p.send, p.expect, p.timeout);
  if ('http' in p) return httpProbe(p.http, p.status, p.body, p.timeout);
  return execProbe(p.exec, p.timeout);
}

/**
 * Connects; with `expect`, sends `send` (if any) and reads until the answer holds `expect`. A new
 * connection each time: what a program answers after a probe gave up must not pass the next one.
 */
function tcpProbe(target: string, send: string | undefined, expect: string | undefined, timeoutMs: number): Promise<ProbeResult> {
  const { host, port } = splitHostPort(target);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let connected = false;
    const done = (r: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const answer =
      expect === undefined
        ? null
        : awaitAnswer(socket, { send, text: expect }, (r) =>
            done(
              r === 'found'
                ? { ok: true, detail: `${target} answered ${shown(expect)}` }
                : r === 'too-long'
                  ? { ok: false, detail: `${target}: no ${shown(expect)} in the first ${MAX_ANSWER_BYTES} bytes of its answer` }
                  : { ok: false, detail: `${target}: closed the connection without answering ${shown(expect)}${said()}` },
            ),
          );
    const said = () => (answer?.said() ? `; it said ${answer.said()}` : '');
    const timer = setTimeout(() => done({ ok: false, detail: !connected ? `no connection to ${target} within ${timeoutMs}ms` : `${target}: no answer with ${shown(expect ?? '')} within ${timeoutMs}ms${said()}` }), timeoutMs);
    socket.once('connect', () => {
      connected = true;
      if (!answer) done({ ok: true, detail: `connected to ${target}` });
    });
    socket.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, detail: `${target}: ${e.code ?? e.message}` }));
  });
}

/** One keep-alive connection per probed origin: a probe every 100 ms should not open a connection each time. */
const keepAlive = new Map<string, http.Agent>();
function agentFor(url: string): http.Agent {
  const origin = new URL(url).origin;
  let a = keepAlive.get(origin);
  if (!a) {
    a = url.startsWith('https:') ? new https.Agent({ keepAlive: true, maxFreeSockets: 1, rejectUnauthorized: false }) : new http.Agent({ keepAlive: true, maxFreeSockets: 1 });
    if (keepAlive.size > 256) keepAlive.clear();
    keepAlive.set(origin, a);
  }
  return a;
}

function httpProbe(url: string, range: string, body: string | undefined, timeoutMs: number, retried = false): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const lib = url.startsWith('https:') ? https : http;
    let settled = false;
    // A healthy answer is read to its end so that its connection goes back to the keep-alive pool;
    // anything else destroys the connection.
    const done = (r: ProbeResult, keep = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!keep) req.destroy();
      resolve(r);
    };
    const req = lib.get(url, { agent: agentFor(url), headers: { 'user-agent': 'armory-probe' } }, (res) => {
      const code = res.statusCode ?? 0;
      if (!statusInRange(code, range)) return done({ ok: false, detail: `${url}: status ${code}, wanted ${range}` });
      let text = '';
      let size = 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        size += chunk.length;
        if (body !== undefined && text.length < MAX_BODY) text += chunk;
        if (size > 16 * MAX_BODY) done({ ok: false, detail: `${url}: the answer is larger than ${16 * MAX_BODY} bytes` });
      });
      res.on('end', () => {
        if (body === undefined) return done({ ok: true, detail: `${url}: status ${code}` }, true);
        const found = text.includes(body);
        done({ ok: found, detail: found ? `${url}: status ${code}, body matches` : `${url}: body does not contain "${body}"` }, found);
      });
      res.on('error', (e) => done({ ok: false, detail: `${url}: ${e.message}` }));
    });
    const timer = setTimeout(() => done({ ok: false, detail: `${url}: no answer within ${timeoutMs}ms` }), timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      // A kept-alive connection the server closed meanwhile (a restart): try once on a fresh one.
      if (req.reusedSocket && !retried && !settled && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
        settled = true;
        clearTimeout(timer);
        void httpProbe(url, range, body, timeoutMs, true).then(resolve);
        return;
      }
      done({ ok: false, detail: `${url}: ${e.code ?? e.message}` });
    });
  });
}

function execProbe(argv: readonly string[], timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr = (stderr + d).slice(-300)));
    let settled = false;
    const done = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      done({ ok: false, detail: `${cmd}: did not finish within ${timeoutMs}ms` });
    }, timeoutMs);
    child.once('error', (e) => done({ ok: false, detail: `${cmd}: ${e.message}` }));
    child.once('exit', (code, signal) =>
      done(code === 0 ? { ok: true, detail: `${cmd}: exit 0` } : { ok: false, detail: `${cmd}: ${signal ? `killed by ${signal}` : `exit code ${code}`}${stderr ? `: ${stderr.trim()}` : ''}` }),
    );
  });
}
