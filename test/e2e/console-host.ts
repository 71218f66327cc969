import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/agent-harness.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ARMORY = path.join(ROOT, 'bin/armory.js');

/**
 * The console host as a user starts it: `armory console` with its own ARMORY_HOME (so the local
 * node and its agent are this test's own), read its URL from what it prints, and on dispose stop
 * it, remove the local node (its agent and programs) and the folder.
 */
export class ConsoleHost {
  readonly home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-e2e-'));
  private child: ChildProcess | null = null;
  output = '';
  url = '';

  get origin(): string {
    return new URL(this.url).origin;
  }

  async start(): Promise<this> {
    const child = spawn(process.execPath, [ARMORY, 'console', '--port', '0', '--agent-port', String(freePort())], { env: { ...process.env, ARMORY_HOME: this.home }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.url = await waitFor('the console to print its address', () => /open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(this.output)?.[1] ?? (child.exitCode !== null ? Promise.reject(new Error(`console exited: ${this.output}`)) : undefined), { timeoutMs: 40_000, everyMs: 50 });
    return this;
  }

  armory(...args: string[]): Promise<{ code: number; stdout: string }> {
    return new Promise((resolve) => execFile(process.execPath, [ARMORY, ...args], { env: { ...process.env, ARMORY_HOME: this.home }, timeout: 30_000 }, (e, stdout) => resolve({ code: e ? 1 : 0, stdout })));
  }

  async dispose(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    if (fs.existsSync(path.join(this.home, 'local-agent'))) await this.armory('node', 'rm', 'local', '--yes');
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}
