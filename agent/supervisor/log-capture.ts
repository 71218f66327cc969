import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { libc } from '../os/libc.js';
import { LogFile } from './log-file.js';

const MAX_LINE = 16 * 1024;

/** mkfifo through libc where koffi loads (no process spawned), else the mkfifo command. */
function makeFifo(file: string): void {
  try {
    libc().mkfifo(file, 0o600);
    return;
  } catch {
    // fall back to the coreutils command
  }
  execFileSync('mkfifo', ['-m', '600', file]);
}

/**
 * Captures a program's stdout and stderr through two named pipes in the state directory. The
 * program gets a read-write descriptor of each pipe, so that it never sees EPIPE/SIGPIPE while
 * the agent is down (its output then waits in the pipe, or its writes block once the pipe is
 * full); the agent keeps its own descriptors and drains the pipes into a rotating log file.
 * After an agent restart the same pipes are opened again and nothing written meanwhile is lost.
 */
export class LogCapture {
  readonly file: LogFile;
  private readonly streams: { fifo: string; tag: string; holder: number; reader: net.Socket; partial: string }[] = [];

  constructor(runDir: string, logDir: string, name: string, limits: { maxSize: number; keep: number }) {
    this.file = new LogFile(`${logDir}/${name}.log`, limits.maxSize, limits.keep);
    for (const tag of ['out', 'err']) {
      const fifo = `${runDir}/${name}.${tag}`;
      const st = fs.statSync(fifo, { throwIfNoEntry: false });
      if (st && !st.isFIFO()) fs.rmSync(fifo, { force: true });
      if (!st || !st.isFIFO()) makeFifo(fifo);
      const readFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const holder = fs.openSync(fifo, fs.constants.O_RDWR);
      const reader = new net.Socket({ fd: readFd, readable: true, writable: false });
      const stream = { fifo, tag, holder, reader, partial: '' };
      reader.setEncoding('utf8');
      reader.on('data', (chunk: string) => this.onData(stream, chunk));
      reader.on('error', () => undefined);
      this.streams.push(stream);
    }
  }

  private onData(stream: { tag: string; partial: string }, chunk: string): void {
    const text = stream.partial + chunk;
    const lines = text.split('\n');
    stream.partial = lines.pop() ?? '';
    if (stream.partial.length > MAX_LINE) {
      lines.push(stream.partial);
      stream.partial = '';
    }
    const stamp = new Date().toISOString();
    for (const line of lines) this.file.write(`${stamp} ${stream.tag}| ${line}`);
  }

  /** Descriptors to hand to the program as stdout and stderr. */
  get stdio(): [number, number] {
    return [this.streams[0]?.holder ?? -1, this.streams[1]?.holder ?? -1];
  }

  close(options: { removePipes: boolean }): void {
    for (const s of this.streams) {
      s.reader.destroy();
      fs.closeSync(s.holder);
      if (options.removePipes) fs.rmSync(s.fifo, { force: true });
    }
    this.file.close();
  }
}
