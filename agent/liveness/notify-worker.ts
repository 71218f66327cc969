import fs from 'node:fs';
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { libcSocket } from './libc-socket.js';

/**
 * The notify receiver thread: one poll() over every service's notify socket plus an eventfd that
 * the agent signals when the set changes. It reads each datagram at once (so that systemd-notify's
 * barrier is released even while the agent's main thread is busy) and, before reading the next one,
 * looks up the sender's process group while the sender is certainly still alive.
 */
export interface WorkerControl {
  op: 'add' | 'remove' | 'stop';
  fd?: number;
  service?: string;
}

export interface WorkerDatagram {
  service: string;
  data: Uint8Array;
  pid: number | null;
  pgrp: number | null;
  truncated: boolean;
}

function pgrpOf(pid: number | null): number | null {
  if (pid === null || pid <= 0) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}

function run(): void {
  const { efd, control, out } = workerData as { efd: number; control: MessagePort; out: MessagePort };
  const lib = libcSocket();
  const sockets = new Map<number, string>();
  for (;;) {
    const ready = lib.poll([efd, ...sockets.keys()], 5000);
    if (ready.includes(efd)) lib.drain(efd);
    for (let m = receiveMessageOnPort(control); m; m = receiveMessageOnPort(control)) {
      const c = m.message as WorkerControl;
      if (c.op === 'stop') {
        for (const fd of sockets.keys()) lib.close(fd);
        return;
      }
      if (c.op === 'add' && c.fd !== undefined && c.service !== undefined) sockets.set(c.fd, c.service);
      if (c.op === 'remove' && c.fd !== undefined) {
        sockets.delete(c.fd);
        lib.close(c.fd);
      }
    }
    for (const fd of ready) {
      const service = sockets.get(fd);
      if (service === undefined) continue;
      for (let i = 0; i < 64; i += 1) {
        const d = lib.recv(fd);
        if (!d) break;
        const msg: WorkerDatagram = { service, data: d.data, pid: d.pid, pgrp: pgrpOf(d.pid), truncated: d.truncated };
        out.postMessage(msg);
      }
    }
  }
}

run();
