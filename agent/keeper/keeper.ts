import { spawn, type ChildProcess } from 'node:child_process';

export interface KeeperOptions {
  /** The command that runs the agent in the foreground. */
  command: string;
  args: string[];
  log: (line: string) => void;
  /** Restarts within one minute after which the keeper slows down to one a minute. */
  burst?: number;
  /** Run when the agent died (not on an orderly exit), before it is started again; bounded to 5 s. */
  onDeath?: () => Promise<void>;
}

/**
 * The minimal process that restarts the agent where there is no systemd: it runs the agent, and
 * when the agent dies in any way but an orderly exit (code 0) it starts it again at once, backing
 * off only when the agent keeps dying. It does nothing else, so that it has nothing to fail at.
 */
export function runKeeper(options: KeeperOptions): Promise<number> {
  const burst = options.burst ?? 10;
  const starts: number[] = [];
  let child: ChildProcess | null = null;
  let stopping = false;

  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      stopping = true;
      options.log(`keeper: ${signal}; stopping the agent (its programs keep running)`);
      if (child?.pid) child.kill('SIGTERM');
      else resolve(0);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);

    const launch = () => {
      const now = Date.now();
      while (starts.length > 0 && (starts[0] as number) < now - 60_000) starts.shift();
      starts.push(now);
      child = spawn(options.command, options.args, { stdio: 'inherit' });
      child.on('error', (e) => options.log(`keeper: cannot start the agent: ${e.message}`));
      child.on('exit', (code, signal) => {
        child = null;
        if (stopping || code === 0) {
          options.log(`keeper: agent exited (${signal ?? `code ${code}`}); keeper done`);
          resolve(0);
          return;
        }
        const delay = starts.length >= burst ? 60_000 : starts.length > 3 ? 1000 : 0;
        options.log(`keeper: agent died (${signal ?? `code ${code}`}); restarting${delay ? ` in ${delay}ms` : ''}`);
        const cleanup = options.onDeath ? Promise.race([options.onDeath().catch((e: unknown) => options.log(`keeper: ${(e as Error).message}`)), new Promise((r) => setTimeout(r, 5000))]) : Promise.resolve();
        void cleanup.then(() => setTimeout(launch, delay));
      });
    };
    launch();
  });
}
