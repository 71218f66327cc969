import net from 'node:net';
import tls from 'node:tls';
import { ArmoryError, fromErrorPayload } from '../errors/armory-error.js';
import { incomingSchema } from '../rpc/envelope.js';
import { identityFromSubjectAltName } from '../wire/certificate-identity.js';
import type { AgentMethod, ParamsOf, ResultOf } from '../wire/agent-control.js';
import { encodeFrame, LineFramer, parseFrame, type WireFrame } from '../wire/line-framer.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; onItem?: (data: unknown) => void };

/** Talks to an agent's control API: over its Unix socket (local) or over mutual TLS (the manager, peers). */
export class ControlClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly framer = new LineFramer();

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.framer.push(chunk)) this.receive(frame);
      } catch (e) {
        this.failAll(e as Error);
        socket.destroy();
      }
    });
    socket.on('close', () => this.failAll(new ArmoryError('AGENT_E_UNREACHABLE', 'the agent closed the connection')));
    socket.on('error', () => undefined);
  }

  static connect(socketPath: string, timeoutMs = 3000): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ArmoryError('AGENT_E_UNREACHABLE', `no agent answered on ${socketPath} within ${timeoutMs}ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new ControlClient(socket));
      });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no agent is running with this state directory' : e.message;
        reject(new ArmoryError('AGENT_E_UNREACHABLE', `${why} (${socketPath})`));
      });
    });
  }

  /** Connects over mutual TLS, pinned to the cluster CA; the agent must present `expectName`'s certificate. */
  static connectTls(options: { host: string; port: number; caPem: string; certPem: string; keyPem: string; expectName?: string; timeoutMs?: number }): Promise<ControlClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: options.host,
        port: options.port,
        ca: options.caPem,
        cert: options.certPem,
        key: options.keyPem,
        minVersion: 'TLSv1.3',
        // The agent is identified by its cluster certificate, not by a DNS name.
        checkServerIdentity: (_host, cert) => {
          if (options.expectName === undefined) return undefined;
          const id = identityFromSubjectAltName(cert.subjectaltname);
          if (id?.role === 'agent' && id.name === options.expectName) return undefined;
          return new Error(`the agent presented a certificate for ${id ? `${id.role} ${id.name}` : 'no Armory identity'}, not agent ${options.expectName}`);
        },
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ArmoryError('AGENT_E_UNREACHABLE', `no agent answered at ${options.host}:${options.port} within ${timeoutMs}ms`));
      }, timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(new ControlClient(socket));
      });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new ArmoryError('AGENT_E_UNREACHABLE', `cannot reach the agent at ${options.host}:${options.port}: ${e.code ?? e.message}`));
      });
    });
  }

  private receive(frame: WireFrame): void {
    const msg = incomingSchema.safeParse(parseFrame(frame));
    if (!msg.success) return;
    const m = msg.data;
    if ('event' in m) {
      this.pending.get(m.id)?.onItem?.(m.data);
      return;
    }
    if (m.id === null) {
      if (!m.ok) this.failAll(fromErrorPayload(m.error));
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    if (!p.onItem) this.pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(fromErrorPayload(m.error));
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /**
   * Calls a method. Byte arrays in `params` go as raw attachments (encodeFrame): only to an agent
   * whose `hello` lists WIRE_FEATURE_ATTACHMENTS.
   */
  call<M extends AgentMethod>(method: M, params?: ParamsOf<M>, onItem?: (data: unknown) => void): Promise<ResultOf<M>> {
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      let frame: string | Uint8Array;
      try {
        frame = encodeFrame(params === undefined ? { id, method } : { id, method, params });
      } catch (e) {
        return reject(e as Error);
      }
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...(onItem ? { onItem } : {}) });
      this.socket.write(frame);
    });
  }

  /** Resolves when the agent closes the connection (the end of a followed stream). */
  closed(): Promise<void> {
    return new Promise((resolve) => (this.socket.destroyed ? resolve() : this.socket.once('close', () => resolve())));
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}
