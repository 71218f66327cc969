import fs from 'node:fs';
import net from 'node:net';
import { ArmoryError, toErrorPayload } from '../../common/errors/armory-error.js';
import { requestSchema, type RpcResponse, type RpcStream } from '../../common/rpc/envelope.js';
import { agentControl, type AgentControl, type AgentMethod, type ResultOf } from '../../common/wire/agent-control.js';
import { encodeLine, LineFramer, parseFrame, type WireFrame } from '../../common/wire/line-framer.js';
import type { z } from 'zod';
import { mayCall } from './authorization.js';
import { LOCAL_CALLER, type PeerIdentity } from './peer-identity.js';

/** A streaming handler pushes items until the connection closes; it returns how to stop. */
export type Emit = (data: unknown) => void;

export type ControlHandlers = {
  [M in AgentMethod]: (
    params: z.output<AgentControl[M]['params']>,
    emit: Emit,
    onClose: (dispose: () => void) => void,
    caller: PeerIdentity,
  ) => Promise<ResultOf<M>> | ResultOf<M>;
};

/**
 * The agent's control API: newline-delimited JSON RPC, served on a Unix socket that only the owner
 * may open and (for an enrolled agent) on a mutual-TLS port. Every request is size-bounded before
 * buffering, checked against the contract and against what the caller may do; a bad one gets an
 * error reply with its code and never disturbs the agent or other connections.
 */
export class ControlServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly socketPath: string,
    private readonly handlers: ControlHandlers,
  ) {
    this.server = net.createServer((socket) => this.attach(socket, LOCAL_CALLER));
  }

  async listen(): Promise<void> {
    fs.rmSync(this.socketPath, { force: true });
    const old = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.socketPath, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(old);
    }
    fs.chmodSync(this.socketPath, 0o600);
  }

  /** Serves one connection for a caller whose identity the transport established. */
  attach(socket: net.Socket, caller: PeerIdentity): void {
    this.sockets.add(socket);
    const framer = new LineFramer();
    const disposers: (() => void)[] = [];
    const send = (msg: RpcResponse | RpcStream) => {
      if (!socket.destroyed) socket.write(encodeLine(msg));
    };
    socket.on('data', (chunk: Buffer) => {
      let frames: WireFrame[];
      try {
        frames = framer.push(chunk);
      } catch (e) {
        send({ id: null, ok: false, error: toErrorPayload(e) });
        socket.end();
        return;
      }
      for (const frame of frames) void this.handle(frame, send, (d) => disposers.push(d), caller);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      for (const d of disposers) d();
    });
  }

  private async handle(frame: WireFrame, send: (msg: RpcResponse | RpcStream) => void, onClose: (d: () => void) => void, caller: PeerIdentity): Promise<void> {
    let id: number | null = null;
    try {
      const req = requestSchema.safeParse(parseFrame(frame));
      if (!req.success) throw new ArmoryError('WIRE_E_MALFORMED', `not a request: ${req.error.issues[0]?.message ?? 'invalid'}`);
      id = req.data.id;
      const name = req.data.method;
      if (!Object.hasOwn(agentControl, name)) throw new ArmoryError('RPC_E_UNKNOWN_METHOD', `no such method: ${name}`);
      if (!mayCall(caller, name as AgentMethod)) throw new ArmoryError('AGENT_E_FORBIDDEN', `${caller.role} ${caller.name} may not call ${name}`);
      const contract = agentControl[name as AgentMethod];
      const params = contract.params.safeParse(req.data.params);
      if (!params.success) {
        const issue = params.error.issues[0];
        throw new ArmoryError('RPC_E_BAD_PARAMS', `bad parameters for ${name}: ${issue ? `${issue.path.join('.') || 'params'}: ${issue.message}` : 'invalid'}`);
      }
      const reqId = id;
      const handler = this.handlers[name as AgentMethod] as (p: unknown, emit: Emit, onClose: (d: () => void) => void, caller: PeerIdentity) => Promise<unknown>;
      const result = await handler(params.data, (data) => send({ id: reqId, event: 'item', data }), onClose, caller);
      send({ id: reqId, ok: true, result });
    } catch (e) {
      send({ id, ok: false, error: toErrorPayload(e) });
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }
}
