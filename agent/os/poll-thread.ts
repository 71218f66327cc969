import { MessageChannel, Worker } from 'node:worker_threads';
import { libc } from './libc.js';
import type { PollControl, PollEvent } from './poll-worker.js';

type Handler = (event: PollEvent) => void;

/**
 * The main thread's side of the poll thread (poll-worker.ts): hands it descriptors to watch and
 * routes what it reports to the handler registered for each key. Started on first use; a process
 * that never needs it (no notify services, no re-adopted programs) never pays for the thread.
 */
export class PollThread {
  private worker: Worker | null = null;
  private efd = -1;
  private control: MessageChannel | null = null;
  private readonly handlers = new Map<string, Handler>();
  private nextKey = 1;

  private ensure(): void {
    if (this.worker) return;
    const lib = libc();
    this.efd = lib.eventfd();
    this.control = new MessageChannel();
    const out = new MessageChannel();
    out.port1.on('message', (e: PollEvent) => {
      const h = this.handlers.get(e.key);
      if (e.kind === 'exit') this.handlers.delete(e.key);
      h?.(e);
    });
    out.port1.unref();
    this.worker = new Worker(new URL('./poll-worker.js', import.meta.url), {
      workerData: { efd: this.efd, control: this.control.port2, out: out.port2 },
      transferList: [this.control.port2, out.port2],
    });
    this.worker.on('error', () => undefined);
    this.worker.unref();
  }

  private send(c: PollControl): void {
    this.control?.port1.postMessage(c);
    libc().signal(this.efd);
  }

  /** Watches a descriptor; the thread takes it over and closes it on remove() or after a pidfd fires. */
  watch(fd: number, kind: 'dgram' | 'pidfd', handler: Handler): { remove(): void } {
    this.ensure();
    const key = String(this.nextKey++);
    this.handlers.set(key, handler);
    this.send({ op: 'add', fd, kind, key });
    return {
      remove: () => {
        if (this.handlers.delete(key)) this.send({ op: 'remove', fd });
      },
    };
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
    libc().close(this.efd);
    this.handlers.clear();
  }
}

/** The one poll thread of the agent process. */
export const pollThread = new PollThread();
