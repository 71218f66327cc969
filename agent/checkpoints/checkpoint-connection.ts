import type net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { ArmoryError, toErrorPayload } from '../../common/errors/armory-error.js';
import { CheckpointRequestDecoder, type CheckpointReply, type DecodedPart } from '../../common/wire/checkpoint-protocol.js';
import type { CheckpointStore, CheckpointWriter, StoredCheckpoint } from './checkpoint-store.js';

export interface ConnectionDeps {
  store: CheckpointStore;
  epoch: () => number;
  saved: (stored: StoredCheckpoint) => void;
  loaded: (stored: StoredCheckpoint) => void;
}

const reply = (socket: net.Socket, r: CheckpointReply) => {
  if (!socket.destroyed) socket.write(`${JSON.stringify(r)}\n`);
};

/**
 * Serves one connection of a program to its checkpoint socket. The socket is paused while a part
 * is written to disk, so a fast sender is held back by the disk (backpressure), never buffered.
 * A bad request gets an error reply with its CHECKPOINT_E_* code; a save cut short is discarded.
 */
export function serveCheckpointConnection(socket: net.Socket, deps: ConnectionDeps): void {
  const decoder = new CheckpointRequestDecoder(deps.store.options.maxSize);
  let writer: CheckpointWriter | null = null;
  let chain = Promise.resolve();
  let failed = false;

  const fail = (e: unknown) => {
    if (failed) return;
    failed = true;
    void writer?.abort();
    writer = null;
    reply(socket, { ok: false, error: toErrorPayload(e, 'CHECKPOINT_E_IO') });
    socket.end();
  };

  const handle = async (part: DecodedPart) => {
    if (part.kind === 'request') {
      const req = part.request;
      if (req.op === 'save') writer = await deps.store.beginSave(deps.epoch());
      else if (req.op === 'list') {
        reply(socket, { ok: true, checkpoints: (await deps.store.list()).map(({ problem: _p, ...c }) => c) });
        socket.end();
      } else {
        const stored = await deps.store.newestValid(req.seq);
        if (!stored) throw new ArmoryError('CHECKPOINT_E_NONE', req.seq === undefined ? 'no valid checkpoint is stored' : `no valid checkpoint ${req.seq} is stored`);
        reply(socket, { ok: true, checkpoint: stored.meta });
        deps.loaded(stored);
        await pipeline(deps.store.openData(stored), socket);
      }
    } else if (part.kind === 'data') {
      await writer?.write(part.bytes);
    } else {
      const w = writer;
      writer = null;
      if (!w) return;
      const stored = await w.commit();
      reply(socket, { ok: true, checkpoint: stored.meta });
      socket.end();
      deps.saved(stored);
    }
  };

  socket.on('data', (chunk: Buffer) => {
    if (failed) return;
    let parts: DecodedPart[];
    try {
      parts = decoder.push(chunk);
    } catch (e) {
      chain = chain.then(() => fail(e));
      return;
    }
    if (parts.length === 0) return;
    socket.pause();
    chain = chain
      .then(async () => {
        for (const p of parts) if (!failed) await handle(p);
      })
      .catch(fail)
      .finally(() => {
        if (!socket.destroyed) socket.resume();
      });
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    chain = chain.then(() => {
      if (writer) void writer.abort();
      writer = null;
    });
  });
}
