import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

/** One test host: a network namespace with one interface on the test bridge. */
export interface TestHost {
  name: string;
  netns: string;
  address: string;
  /** The host-side end of its cable (set it down to cut the host off). */
  veth: string;
}

/** sh script: bind-mounts each (source, mountpoint) pair before `--`, then execs the rest. */
const BIND_THEN_EXEC = 'while [ "$1" != "--" ]; do mount --bind "$1" "$2" || exit 1; shift 2; done; shift; exec "$@"';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * Test hosts in network namespaces joined by a bridge, with addresses from 198.18.0.0/15. The
 * root namespace (where the test and the manager run) is on the bridge too, at .1. Everything is
 * named after a per-run tag and removed by down(), which is safe to call twice.
 */
export class TestNetwork {
  readonly tag: string;
  readonly subnet: string;
  readonly bridge: string;
  readonly gateway: string;
  readonly hosts: TestHost[] = [];
  private readonly procs: ChildProcess[] = [];

  constructor() {
    const n = process.pid % 200;
    this.tag = `a${process.pid % 100000}`;
    this.subnet = `198.18.${n}`;
    this.bridge = `${this.tag}br`;
    this.gateway = `${this.subnet}.1`;
  }

  up(names: string[]): TestHost[] {
    ip('link', 'add', this.bridge, 'type', 'bridge');
    ip('addr', 'add', `${this.gateway}/24`, 'dev', this.bridge);
    ip('link', 'set', this.bridge, 'up');
    names.forEach((name, i) => {
      const host: TestHost = { name, netns: `${this.tag}-${name}`, address: `${this.subnet}.${10 + i}`, veth: `${this.tag}v${i}` };
      ip('netns', 'add', host.netns);
      ip('link', 'add', host.veth, 'type', 'veth', 'peer', 'name', `${host.veth}p`);
      ip('link', 'set', host.veth, 'master', this.bridge);
      ip('link', 'set', host.veth, 'up');
      ip('link', 'set', `${host.veth}p`, 'netns', host.netns);
      ip('-n', host.netns, 'link', 'set', `${host.veth}p`, 'name', 'eth0');
      ip('-n', host.netns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0');
      ip('-n', host.netns, 'link', 'set', 'eth0', 'up');
      ip('-n', host.netns, 'link', 'set', 'lo', 'up');
      this.hosts.push(host);
    });
    return this.hosts;
  }

  host(name: string): TestHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no test host ${name}`);
    return h;
  }

  /** Starts a process inside a host's namespace; down() kills it (and its process group). */
  spawn(host: string, command: string, args: string[], options: { log?: (s: string) => void; binds?: [string, string][] } = {}): ChildProcess {
    // `ip netns exec` gives the process a mount namespace of its own (slave of ours): bind mounts
    // made in it are seen by the process and its children only.
    const binds = options.binds ?? [];
    const argv = binds.length === 0 ? [command, ...args] : ['/bin/sh', '-c', BIND_THEN_EXEC, 'sh', ...binds.flat(), '--', command, ...args];
    const child = spawn('ip', ['netns', 'exec', this.host(host).netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout?.on('data', (d: Buffer) => options.log?.(d.toString()));
    child.stderr?.on('data', (d: Buffer) => options.log?.(d.toString()));
    this.procs.push(child);
    return child;
  }

  /** Cuts a host off the bridge (or puts it back). */
  link(host: string, state: 'up' | 'down'): void {
    ip('link', 'set', this.host(host).veth, state);
  }

  /**
   * Cuts the path between two hosts only (both ways), leaving each reachable by everyone else:
   * a blackhole route to the other in each namespace.
   */
  cut(a: string, b: string): void {
    ip('-n', this.host(a).netns, 'route', 'add', 'blackhole', `${this.host(b).address}/32`);
    ip('-n', this.host(b).netns, 'route', 'add', 'blackhole', `${this.host(a).address}/32`);
  }

  /** Undoes cut(); a path that is not cut is left alone. */
  mend(a: string, b: string): void {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      try {
        ip('-n', this.host(x).netns, 'route', 'del', 'blackhole', `${this.host(y).address}/32`);
      } catch {
        // not cut
      }
    }
  }

  down(): void {
    for (const p of this.procs) {
      if (p.pid === undefined) continue;
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const h of this.hosts) {
      // Processes started in the namespace by other means (daemons that left our group) go too.
      try {
        const pids = execFileSync('ip', ['netns', 'pids', h.netns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      } catch {
        // namespace already gone
      }
      for (const args of [['link', 'del', h.veth], ['netns', 'del', h.netns]]) {
        try {
          ip(...args);
        } catch {
          // already gone
        }
      }
    }
    try {
      ip('link', 'del', this.bridge);
    } catch {
      // already gone
    }
    this.hosts.length = 0;
  }
}
