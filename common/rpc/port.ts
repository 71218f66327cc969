import type { Disposable } from '../bridge/domain.js';

/**
 * A message port: the one thing the RPC needs from a transport. Messages are plain JSON-compatible
 * values (a WebSocket port encodes them as text, Electron IPC clones them, the in-memory pair copies
 * them). `origin` is what the transport knows of the sender (an Electron IPC event, a WebSocket
 * connection's checked session), for the host to check before anything is parsed.
 */
export interface RpcPort {
  send(message: unknown): void;
  onMessage(listener: (message: unknown, origin?: unknown) => void): Disposable;
  /** Called once when the other side is gone; absent for ports that never close. */
  onClose?(listener: () => void): Disposable;
  close?(): void;
}

type Listener = (message: unknown, origin?: unknown) => void;

/** Two connected in-memory ports (for tests and same-process hosts); messages are copied and delivered asynchronously. */
export function memoryPortPair(origins: { a?: unknown; b?: unknown } = {}): [RpcPort, RpcPort] {
  const listeners: [Set<Listener>, Set<Listener>] = [new Set(), new Set()];
  const closers: [Set<() => void>, Set<() => void>] = [new Set(), new Set()];
  let closed = false;
  const make = (self: 0 | 1): RpcPort => {
    const other = self === 0 ? 1 : 0;
    const origin = self === 0 ? origins.a : origins.b;
    return {
      send(message) {
        if (closed) return;
        const copy: unknown = JSON.parse(JSON.stringify(message ?? null));
        queueMicrotask(() => {
          if (!closed) for (const l of listeners[other]) l(copy, origin);
        });
      },
      onMessage(l) {
        listeners[self].add(l);
        return { dispose: () => listeners[self].delete(l) };
      },
      onClose(l) {
        closers[self].add(l);
        return { dispose: () => closers[self].delete(l) };
      },
      close() {
        if (closed) return;
        closed = true;
        for (const set of closers) for (const l of set) l();
      },
    };
  };
  return [make(0), make(1)];
}
