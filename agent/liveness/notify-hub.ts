import fs from 'node:fs';
import path from 'node:path';
import { libc } from '../os/libc.js';
import { pollThread } from '../os/poll-thread.js';

/** A datagram from a service's notify socket, with the sender's pid and process group. */
export interface NotifyDatagram {
  service: string;
  data: Uint8Array;
  pid: number | null;
  pgrp: number | null;
  truncated: boolean;
}

/**
 * The agent's side of the systemd notify protocol: a Unix datagram socket per service
 * (`DIR/notify/NAME.sock`, mode 0600, owned by the service's user), read by the poll thread.
 */
export class NotifyHub {
  private readonly sockets = new Map<string, { path: string; watch: { remove(): void } }>();

  constructor(
    private readonly dir: string,
    private readonly onDatagram: (d: NotifyDatagram) => void,
  ) {}

  /** Creates (or re-creates) a service's notify socket and returns its path for NOTIFY_SOCKET. */
  open(service: string, owner?: { uid: number; gid: number }): string {
    const existing = this.sockets.get(service);
    if (existing) return existing.path;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o711 });
    fs.chmodSync(this.dir, 0o711);
    const file = path.join(this.dir, `${service}.sock`);
    fs.rmSync(file, { force: true });
    const fd = libc().socketDgram(file);
    fs.chmodSync(file, 0o600);
    if (owner) fs.chownSync(file, owner.uid, owner.gid);
    const watch = pollThread.watch(fd, 'dgram', (e) => {
      if (e.kind === 'dgram') this.onDatagram({ service, data: e.data, pid: e.pid, pgrp: e.pgrp, truncated: e.truncated });
    });
    this.sockets.set(service, { path: file, watch });
    return file;
  }

  close(service: string): void {
    const s = this.sockets.get(service);
    if (!s) return;
    this.sockets.delete(service);
    s.watch.remove();
    fs.rmSync(s.path, { force: true });
  }
}
