import fs from 'node:fs';
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { libc } from './libc.js';

/**
 * The agent's poll thread: one poll() over every watched descriptor plus an eventfd that the main
 * thread signals when the set changes. Two kinds of descriptor:
 * - `dgram`: a service's notify socket. Each datagram is read at once (systemd-notify's barrier is
 *   released even while the main thread is busy) and, before the next one is read, the sender's
 *   process group is looked up while the sender is certainly still alive.
 * - `pidfd`: a process the agent did not start (re-adopted after an agent restart); readable when
 *   it ends, so its exit is noticed at once without polling /proc.
 */
export interface PollControl {
  op: 'add' | 'remove' | 'stop';
  fd?: number;
  kind?: 'dgram' | 'pidfd';
  key?: string;
}

export type PollEvent =
  | { kind: 'dgram'; key: string; data: Uint8Array; pid: number | null; pgrp: number | null; truncated: boolean }
  | { kind: 'exit'; key: string };

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
  const lib = libc();
  const watched = new Map<number, { kind: 'dgram' | 'pidfd'; key: string }>();
  for (;;) {
    const ready = lib.poll([efd, ...watched.keys()], 5000);
    if (ready.includes(efd)) lib.drain(efd);
    for (let m = receiveMessageOnPort(control); m; m = receiveMessageOnPort(control)) {
      const c = m.message as PollControl;
      if (c.op === 'stop') {
        for (const fd of watched.keys()) lib.close(fd);
        return;
      }
      if (c.op === 'add' && c.fd !== undefined && c.kind !== undefined && c.key !== undefined) watched.set(c.fd, { kind: c.kind, key: c.key });
      if (c.op === 'remove' && c.fd !== undefined && watched.delete(c.fd)) lib.close(c.fd);
    }
    for (const fd of ready) {
      const w = watched.get(fd);
      if (!w) continue;
      if (w.kind === 'pidfd') {
        watched.delete(fd);
        lib.close(fd);
        out.postMessage({ kind: 'exit', key: w.key } satisfies PollEvent);
        continue;
      }
      for (let i = 0; i < 64; i += 1) {
        const d = lib.recv(fd);
        if (!d) break;
        out.postMessage({ kind: 'dgram', key: w.key, data: d.data, pid: d.pid, pgrp: pgrpOf(d.pid), truncated: d.truncated } satisfies PollEvent);
      }
    }
  }
}

run();
