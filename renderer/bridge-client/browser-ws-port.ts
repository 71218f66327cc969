import type { RpcPort } from '../../common/rpc/port.js';

/** The browser's WebSocket as an RPC port: JSON text frames, messages queued until it opens. */
export function browserWebSocketPort(url: string): RpcPort {
  const ws = new WebSocket(url);
  const queue: string[] = [];
  ws.addEventListener('open', () => {
    for (const m of queue.splice(0)) ws.send(m);
  });
  return {
    send(message) {
      const text = JSON.stringify(message);
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
      else if (ws.readyState === WebSocket.CONNECTING) queue.push(text);
    },
    onMessage(listener) {
      const l = (e: MessageEvent) => {
        if (typeof e.data !== 'string') return;
        try {
          listener(JSON.parse(e.data));
        } catch {
          // The host only sends JSON; anything else is dropped.
        }
      };
      ws.addEventListener('message', l);
      return { dispose: () => ws.removeEventListener('message', l) };
    },
    onClose(listener) {
      ws.addEventListener('close', listener);
      return { dispose: () => ws.removeEventListener('close', listener) };
    },
    close() {
      ws.close();
    },
  };
}
