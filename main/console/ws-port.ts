import type { WebSocket } from 'ws';
import type { RpcPort } from '../../common/rpc/port.js';

/** Messages above this size are refused by the WebSocket itself (a configuration is at most 4 MiB). */
export const MAX_WS_MESSAGE_BYTES = 6 * 1024 * 1024;

/** Marks a message that was not JSON, for the RPC server to answer as a bad message. */
const NOT_JSON = Object.freeze({ notJson: true });

/** A WebSocket as an RPC port: JSON text frames; `origin` is what the server checked at the upgrade. */
export function webSocketPort(ws: WebSocket, origin: unknown): RpcPort {
  return {
    send(message) {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    },
    onMessage(listener) {
      const l = (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
        let m: unknown = NOT_JSON;
        if (!isBinary) {
          try {
            m = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
          } catch {
            m = NOT_JSON;
          }
        }
        listener(m, origin);
      };
      ws.on('message', l);
      return { dispose: () => ws.off('message', l) };
    },
    onClose(listener) {
      ws.on('close', listener);
      return { dispose: () => ws.off('close', listener) };
    },
    close() {
      ws.close();
    },
  };
}
