import fs from 'node:fs';
import path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { libcSocket } from './libc-socket.js';
import type { WorkerControl, WorkerDatagram } from './notify-worker.js';

/**
 * The agent's side of the systemd notify protocol: a Unix datagram socket per service
 * (`DIR/notify/NAME.sock`, owner-only, owned by the service's user) and the receiver thread that
 * reads them all. Datagrams reach `onDatagram` with the sender's pid and process group.
 */
export class NotifyHub {
  private worker: Worker | null = null;
  private efd = -1;
  private control: MessageChannel | null = null;
  private readonly sockets = new Map<string, { fd: number; path: string }>();

  constructor(
    private readonly dir: string,
    private readonly onDatagram: (d: WorkerDatagram) => void,
  ) {}

  private ensureWorker(): void {
    if (this.worker) return;
    const lib = libcSocket();
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o711 });
    fs.chmodSync(this.dir, 0o711);
    this.efd = lib.eventfd();
    this.control = new MessageChannel();
    const out = new MessageChannel();
    out.port1.on('message', (d: WorkerDatagram) => this.onDatagram(d));
    out.port1.unref();
    this.worker = new Worker(new URL('./notify-worker.js', import.meta.url), {
      workerData: { efd: this.efd, control: this.control.port2, out: out.port2 },
      transferList: [this.control.port2, out.port2],
    });
    this.worker.on('error', () => undefined);
    this.worker.unref();
  }

  private send(c: WorkerControl): void {
    this.control?.port1.postMessage(c);
    libcSocket().signal(this.efd);
  }

  /** Creates (or re-creates) a service's notify socket and returns its path for NOTIFY_SOCKET. */
  open(service: string, owner?: { uid: number; gid: number }): string {
    this.ensureWorker();
    const existing = this.sockets.get(service);
    if (existing) return existing.path;
    const file = path.join(this.dir, `${service}.sock`);
    fs.rmSync(file, { force: true });
    const fd = libcSocket().socketDgram(file);
    fs.chmodSync(file, 0o600);
    if (owner) fs.chownSync(file, owner.uid, owner.gid);
    this.sockets.set(service, { fd, path: file });
    this.send({ op: 'add', fd, service });
    return file;
  }

  close(service: string): void {
    const s = this.sockets.get(service);
    if (!s) return;
    this.sockets.delete(service);
    this.send({ op: 'remove', fd: s.fd });
    fs.rmSync(s.path, { force: true });
  }

  async stop(): Promise<void> {
    if (!this.worker) return;
    this.send({ op: 'stop' });
    const w = this.worker;
    this.worker = null;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => void w.terminate().then(() => resolve()), 6000);
      w.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    libcSocket().close(this.efd);
    // Socket files stay: programs keep NOTIFY_SOCKET, and the next agent binds the same paths.
  }
}
