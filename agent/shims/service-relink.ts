import net from 'node:net';
import { hasExited } from '../../common/node/proc-stat.js';
import type { ServiceRelink } from './session.js';

/** The service's main process as the supervisor knows it: pid, start time, and whether it is ready (its readiness: notify, probes). */
export interface ServiceProcess {
  pid: number;
  startTicks: number;
  ready: boolean;
}

const RETRY_MS = 20;
const CONNECT_MS = 250;

/**
 * The server end's way to replace a session's connection to the service (onMove resend): the
 * connection counts as lost to a death when the service's process it was made with is gone,
 * a zombie or exiting (the kernel closes a dying process's sockets while it exits, so this holds
 * by the time the end of the connection is seen). The new connection waits for a new process
 * that the supervisor says is ready: a service accepts connections before it serves (redis
 * answers `-LOADING` while it reads its data), and the request sent again must reach a service
 * that answers it. It is tried every 20 ms until `withinMs` is over or `stopped()` says the end
 * was stopped (the service no longer runs here). A new session while the service is starting
 * waits the same way for the process that runs, once it is ready (`connect('ready')`).
 */
export function serviceRelink(target: { host: string; port: number }, current: () => ServiceProcess | null, withinMs: number, stopped: () => boolean): ServiceRelink {
  let instance = current();
  return {
    died: () => instance !== null && hasExited(instance.pid, instance.startTicks),
    connect: async (which) => {
      const deadline = Date.now() + withinMs;
      let last = 'the service was not started again';
      while (Date.now() < deadline && !stopped()) {
        const now = current();
        if (!now) last = which === 'new' ? 'the service was not started again' : 'the service is not running';
        else if (which === 'new' && instance !== null && now.pid === instance.pid && now.startTicks === instance.startTicks) last = 'the service was not started again';
        else if (!now.ready) last = which === 'new' ? 'the service was started again but is not ready' : 'the service is not ready';
        else {
          try {
            const socket = await connectOnce(target, Math.min(CONNECT_MS, Math.max(1, deadline - Date.now())));
            instance = now;
            return socket;
          } catch (e) {
            last = (e as Error).message;
          }
        }
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
      throw new Error(stopped() ? 'the shim end stopped (the service no longer runs here)' : `no connection to ${target.host}:${target.port} within ${withinMs} ms (${last})`);
    },
  };
}

function connectOnce(target: { host: string; port: number }, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
