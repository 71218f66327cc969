import fs from 'node:fs';

type LineListener = (line: string) => void;

/**
 * A size-bounded, rotating log file: past maxSize, NAME.log becomes NAME.log.1 (and .1 becomes .2,
 * up to `keep`). Lines are written as they come; subscribers see them live (for `logs --follow`).
 */
export class LogFile {
  private fd: number;
  private size: number;
  private readonly listeners = new Set<LineListener>();

  constructor(
    readonly file: string,
    private maxSize: number,
    private keep: number,
  ) {
    this.fd = fs.openSync(file, 'a', 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }

  setLimits(maxSize: number, keep: number): void {
    this.maxSize = maxSize;
    this.keep = keep;
  }

  write(line: string): void {
    const text = `${line}\n`;
    const bytes = Buffer.byteLength(text);
    if (this.size > 0 && this.size + bytes > this.maxSize) this.rotate();
    fs.writeSync(this.fd, text);
    this.size += bytes;
    for (const l of this.listeners) l(line);
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    if (this.keep === 0) {
      fs.rmSync(this.file, { force: true });
    } else {
      fs.rmSync(`${this.file}.${this.keep}`, { force: true });
      for (let i = this.keep - 1; i >= 1; i -= 1) {
        if (fs.existsSync(`${this.file}.${i}`)) fs.renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      }
      fs.renameSync(this.file, `${this.file}.1`);
    }
    this.fd = fs.openSync(this.file, 'a', 0o600);
    this.size = 0;
  }

  /** The last n lines, reaching into the rotated files when the current one is short. */
  tail(n: number): string[] {
    const out: string[] = [];
    for (let i = 0; i <= this.keep && out.length < n; i += 1) {
      const f = i === 0 ? this.file : `${this.file}.${i}`;
      let text: string;
      try {
        text = fs.readFileSync(f, 'utf8');
      } catch {
        break;
      }
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      out.unshift(...lines.slice(Math.max(0, lines.length - (n - out.length))));
    }
    return out;
  }

  subscribe(listener: LineListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  close(): void {
    fs.closeSync(this.fd);
    this.listeners.clear();
  }
}
