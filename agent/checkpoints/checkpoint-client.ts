import { createHash } from 'node:crypto';
import net from 'node:net';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { ArmoryError, fromErrorPayload } from '../../common/errors/armory-error.js';
import { checkpointReplySchema, encodeFrame, MAX_FRAME_BYTES, type CheckpointMeta, type CheckpointReply, type CheckpointRequest } from '../../common/wire/checkpoint-protocol.js';

/**
 * The Node client of the checkpoint API, for programs Armory runs (built as dist/checkpoint-client.js):
 *
 *   import { saveCheckpoint, loadCheckpoint } from '/usr/lib/armory/checkpoint-client.js';
 *   const last = await loadCheckpoint();            // { meta, data } or null when none is stored
 *   await saveCheckpoint(JSON.stringify(state));     // a Buffer, a string or a stream of bytes
 *
 * It finds the agent through ARMORY_CHECKPOINT_SOCKET, which the agent sets for the program.
 */
export interface CheckpointClientOptions {
  /** The socket path (default: ARMORY_CHECKPOINT_SOCKET). */
  socket?: string;
}

export type ListedCheckpoint = CheckpointMeta & { valid: boolean };

function socketPath(options: CheckpointClientOptions): string {
  const p = options.socket ?? process.env.ARMORY_CHECKPOINT_SOCKET;
  if (!p) throw new ArmoryError('CHECKPOINT_E_UNREACHABLE', 'ARMORY_CHECKPOINT_SOCKET is not set: the program does not run under an Armory agent with checkpoints configured');
  return p;
}

interface Conversation {
  socket: net.Socket;
  /** The reply line; resolves once it arrived. */
  reply: Promise<CheckpointReply>;
  /** Bytes after the reply line (a loaded checkpoint). */
  body: PassThrough;
}

function converse(options: CheckpointClientOptions, request: CheckpointRequest): Promise<Conversation> {
  const file = socketPath(options);
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(file);
    socket.once('error', (e: NodeJS.ErrnoException) => reject(new ArmoryError('CHECKPOINT_E_UNREACHABLE', `cannot reach the checkpoint socket ${file}: ${e.code ?? e.message}`)));
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      const body = new PassThrough({ highWaterMark: 1024 * 1024 });
      let head: Buffer = Buffer.alloc(0);
      let gotReply = false;
      const reply = new Promise<CheckpointReply>((res, rej) => {
        socket.on('error', (e) => (gotReply ? body.destroy(e) : rej(new ArmoryError('CHECKPOINT_E_UNREACHABLE', `the checkpoint socket failed: ${e.message}`))));
        socket.on('end', () => {
          if (!gotReply) rej(new ArmoryError('CHECKPOINT_E_UNREACHABLE', 'the agent closed the checkpoint socket without a reply'));
          body.end();
        });
        socket.on('data', (chunk: Buffer) => {
          if (gotReply) {
            if (!body.write(chunk)) {
              socket.pause();
              body.once('drain', () => socket.resume());
            }
            return;
          }
          head = Buffer.concat([head, chunk]);
          const nl = head.indexOf(10);
          if (nl === -1) {
            if (head.length > 1024 * 1024) rej(new ArmoryError('CHECKPOINT_E_FRAME', 'the reply line is too long'));
            return;
          }
          gotReply = true;
          let parsed: CheckpointReply;
          try {
            parsed = checkpointReplySchema.parse(JSON.parse(head.subarray(0, nl).toString('utf8')));
          } catch {
            rej(new ArmoryError('CHECKPOINT_E_FRAME', 'the agent sent a reply this client does not understand'));
            socket.destroy();
            return;
          }
          const rest = head.subarray(nl + 1);
          if (rest.length > 0) body.write(rest);
          res(parsed);
        });
      });
      reply.catch(() => undefined);
      socket.write(`${JSON.stringify(request)}\n`);
      resolve({ socket, reply, body });
    });
  });
}

const expectOk = (r: CheckpointReply) => {
  if (!r.ok) throw fromErrorPayload(r.error);
  return r;
};

async function* chunksOf(data: Uint8Array | string | AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  if (typeof data === 'string') yield Buffer.from(data);
  else if (data instanceof Uint8Array) yield data;
  else for await (const c of data) yield typeof c === 'string' ? Buffer.from(c) : c;
}

/** Saves a checkpoint; resolves with what the agent stored once it is durable. */
export async function saveCheckpoint(data: Uint8Array | string | AsyncIterable<Uint8Array | string>, options: CheckpointClientOptions = {}): Promise<CheckpointMeta> {
  const c = await converse(options, { op: 'save' });
  let refused = false;
  void c.reply.then(() => (refused = true), () => (refused = true));
  try {
    const write = (b: Uint8Array) =>
      c.socket.write(b)
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const done = () => {
              c.socket.off('drain', done).off('close', done);
              resolve();
            };
            c.socket.on('drain', done).on('close', done);
          });
    for await (const chunk of chunksOf(data)) {
      for (let off = 0; off < chunk.length && !refused; off += MAX_FRAME_BYTES) {
        await write(encodeFrame(chunk.subarray(off, off + MAX_FRAME_BYTES)));
      }
      if (refused) break;
    }
    if (!refused) c.socket.write(encodeFrame(new Uint8Array(0)));
    const r = expectOk(await c.reply);
    if (!r.checkpoint) throw new ArmoryError('CHECKPOINT_E_FRAME', 'the agent did not say what it stored');
    return r.checkpoint;
  } finally {
    c.socket.end();
  }
}

/** The newest valid checkpoint (or `seq`) as a stream checked against its checksum, or null when none is stored. */
export async function loadCheckpointStream(options: CheckpointClientOptions & { seq?: number } = {}): Promise<{ meta: CheckpointMeta; stream: Readable } | null> {
  const c = await converse(options, options.seq === undefined ? { op: 'load' } : { op: 'load', seq: options.seq });
  const r = await c.reply;
  if (!r.ok && r.error.code === 'CHECKPOINT_E_NONE') {
    c.socket.destroy();
    return null;
  }
  const ok = expectOk(r);
  const meta = ok.checkpoint as CheckpointMeta;
  const hash = createHash('sha256');
  let size = 0;
  const checked = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      if (size !== meta.size) cb(new ArmoryError('CHECKPOINT_E_CORRUPT', `the checkpoint stream ended after ${size} of ${meta.size} bytes`));
      else if (hash.digest('hex') !== meta.sha256) cb(new ArmoryError('CHECKPOINT_E_CORRUPT', 'the loaded checkpoint fails its checksum'));
      else cb();
    },
  });
  c.body.pipe(checked);
  return { meta, stream: checked };
}

/** The newest valid checkpoint (or `seq`) in memory, or null when none is stored. */
export async function loadCheckpoint(options: CheckpointClientOptions & { seq?: number } = {}): Promise<{ meta: CheckpointMeta; data: Buffer } | null> {
  const s = await loadCheckpointStream(options);
  if (!s) return null;
  const parts: Buffer[] = [];
  for await (const chunk of s.stream) parts.push(chunk as Buffer);
  return { meta: s.meta, data: Buffer.concat(parts) };
}

/** Every stored checkpoint, newest first, with whether it passes its checksum. */
export async function listCheckpoints(options: CheckpointClientOptions = {}): Promise<ListedCheckpoint[]> {
  const c = await converse(options, { op: 'list' });
  const r = expectOk(await c.reply);
  c.socket.end();
  return r.checkpoints ?? [];
}
