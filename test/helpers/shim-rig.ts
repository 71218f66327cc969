import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { serviceSchema } from '../../common/config/service.js';
import { createClusterCa } from '../../main/core/pki/cluster-ca.js';
import { issueCertificate } from '../../main/core/pki/issue-certificate.js';
import type { TlsMaterial } from '../../agent/api/tls-server.js';
import { ClientEnd, type ShimJournal } from '../../agent/shims/client-end.js';
import type { ReplyBarrierOf } from '../../agent/shims/reply-gate.js';
import type { ServiceProcess } from '../../agent/shims/service-relink.js';
import { ServerEnd } from '../../agent/shims/server-end.js';
import type { ShimConfig } from '../../agent/shims/shim-options.js';

/** Two agents' TLS material from one fresh cluster CA (and a foreign one, for refusals). */
export async function shimPki(): Promise<{ client: TlsMaterial; server: TlsMaterial; manager: TlsMaterial; foreign: TlsMaterial }> {
  const ca = await createClusterCa({ clusterName: 'shimtest' });
  const other = await createClusterCa({ clusterName: 'other' });
  const mat = async (c: typeof ca, role: 'agent' | 'manager', name: string): Promise<TlsMaterial> => {
    const cert = await issueCertificate(c, { role, name, ipAddresses: ['127.0.0.1'] });
    return { caPem: c.certPem, certPem: cert.certPem, keyPem: cert.keyPem, node: name };
  };
  return { client: await mat(ca, 'agent', 'n1'), server: await mat(ca, 'agent', 'n2'), manager: await mat(ca, 'manager', 'manager'), foreign: await mat(other, 'agent', 'n3') };
}

/** A shim configuration as the schema fills it in. */
export function shimConfig(fields: Record<string, unknown>): ShimConfig {
  // Port 0 (any free port) is fine in a test, not in a configuration.
  const { port, tcpPort, ...rest } = fields;
  const svc = serviceSchema.parse({ command: '/bin/true', shims: [{ listen: '127.0.0.1:0', target: '127.0.0.1:1', port: 1, tcpPort: 2, ...rest }] });
  return { ...(svc.shims[0] as ShimConfig), port: typeof port === 'number' ? port : 1, tcpPort: typeof tcpPort === 'number' ? tcpPort : 2 };
}

/**
 * A TCP relay on loopback between the client end and the server end, standing in for the network
 * path: `cut()` resets every connection through it, `freeze()` stops forwarding without telling
 * anyone (a half-open path), `thaw()` forwards again, `block()` refuses new connections.
 */
export class PathRelay {
  private server: net.Server | null = null;
  private readonly pairs = new Set<{ a: net.Socket; b: net.Socket }>();
  private frozen = false;
  private blocked = false;
  connections = 0;

  constructor(private readonly to: () => number) {}

  async start(): Promise<number> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (a) => {
      if (this.blocked) {
        a.destroy();
        return;
      }
      this.connections += 1;
      const b = net.connect({ host: '127.0.0.1', port: this.to(), allowHalfOpen: true });
      const pair = { a, b };
      this.pairs.add(pair);
      const forward = (from: net.Socket, to: net.Socket) => {
        from.on('data', (d: Buffer) => {
          if (this.frozen) return;
          if (!to.write(d)) {
            from.pause();
            to.once('drain', () => from.resume());
          }
        });
        from.on('end', () => to.end());
        from.on('error', () => to.destroy());
        from.on('close', () => {
          to.destroy();
          this.pairs.delete(pair);
        });
      };
      forward(a, b);
      forward(b, a);
      a.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.server = server;
    return (server.address() as net.AddressInfo).port;
  }

  get port(): number {
    return (this.server?.address() as net.AddressInfo).port;
  }

  cut(): void {
    for (const { a, b } of this.pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.pairs.clear();
  }

  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
  }

  block(on: boolean): void {
    this.blocked = on;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

export interface ShimPair {
  client: ClientEnd;
  server: ServerEnd;
  relay: PathRelay;
  events: Array<Parameters<ShimJournal>[0]>;
  stop(): Promise<void>;
}

/**
 * A client end and a server end for one shim on loopback, joined through a PathRelay: the path
 * that carries the sessions (the mutual-TLS one, or with transport tcp the plain one, the opens
 * then going straight to the server end). `barrierOf` is what the server end's replies wait for
 * with waitForMirror (the agent's mirror barrier); `serviceProcess`, the service's main process as
 * the supervisor reports it (its readiness).
 */
export async function shimPair(
  pki: Awaited<ReturnType<typeof shimPki>>,
  targetPort: number,
  fields: Record<string, unknown> = {},
  options: { barrierOf?: ReplyBarrierOf; serviceProcess?: () => ServiceProcess | null } = {},
): Promise<ShimPair> {
  const events: Array<Parameters<ShimJournal>[0]> = [];
  const journal: ShimJournal = (e) => {
    events.push(e);
    if (process.env.SHIM_DEBUG) console.log(Date.now() % 100000, e.end, e.code, e.text);
  };
  const cfg = shimConfig({ target: `127.0.0.1:${targetPort}`, port: 0, tcpPort: 0, ...fields });
  const server = new ServerEnd('svc', 0, cfg, pki.server, '127.0.0.1', journal, { barrierOf: options.barrierOf ?? null, serviceProcess: options.serviceProcess ?? null });
  await server.start();
  const plain = cfg.transport === 'tcp';
  const relay = new PathRelay(() => (plain ? pair.server.dataPort : pair.server.port));
  const relayPort = await relay.start();
  const where = plain ? { host: '127.0.0.1', port: server.port, tcpPort: relayPort } : { host: '127.0.0.1', port: relayPort };
  const client = new ClientEnd('svc', 0, cfg, pki.client, { locate: () => where }, journal);
  await client.start();
  const pair: ShimPair = {
    client,
    server,
    relay,
    events,
    async stop() {
      await pair.client.stop();
      await pair.server.stop();
      await relay.stop();
    },
  };
  return pair;
}

/** A TCP server for tests: each connection is handed to `onConnection`; close() ends it all. */
export async function tcpServer(onConnection: (s: net.Socket) => void): Promise<{ port: number; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface StreamResult {
  listening?: number;
  connected?: boolean;
  progress?: number;
  sent?: number;
  sentSha?: string;
  received?: number;
  receivedSha?: string;
  errors?: string[];
  error?: string;
}

const FIXTURE = new URL('../fixtures/shim-stream.js', import.meta.url).pathname;

/** The stream-test programs (test/fixtures/shim-stream.js), started with `run` (locally or in a netns). */
export function streamPrograms(run: (args: string[]) => ChildProcess) {
  const lines = (child: ChildProcess): StreamResult[] => {
    const out: StreamResult[] = [];
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          out.push(JSON.parse(line) as StreamResult);
        } catch {
          // not ours
        }
      }
    });
    return out;
  };
  return {
    server(host: string, port: number, bytesBack: number) {
      const child = run([FIXTURE, 'server', host, String(port), String(bytesBack)]);
      return { child, results: lines(child) };
    },
    client(host: string, port: number, bytes: number) {
      const child = run([FIXTURE, 'client', host, String(port), String(bytes)]);
      return { child, results: lines(child) };
    },
  };
}
