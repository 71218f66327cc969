import { execFile } from 'node:child_process';

/** How a command the agent ran ended: its exit code (1 when it could not start or timed out), stdout, stderr. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd ARGS` without a shell (killed after `timeoutMs`); resolves with how it ended, never rejects. */
export function runCommand(cmd: string, args: readonly string[], timeoutMs = 5000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
