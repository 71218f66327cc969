// Shared helpers of the benchmarks: statistics, JSON results, /proc readings, process tracking and
// cleanup, the Armory agent and supervisord as child processes. Plain ESM JavaScript (runs with node).
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };
export const ROOT = path.resolve(import.meta.dirname, '../..');
export const AGENT_BIN = path.join(ROOT, 'bin/armory-agent.js');
export const RESULTS_DIR = process.env.BENCH_RESULTS_DIR ? path.resolve(process.env.BENCH_RESULTS_DIR) : path.join(ROOT, 'bench-results');
export const NODE = process.execPath;
export const now = () => performance.now();
/**
 * Wall-clock time in ms with sub-millisecond resolution: the clock of Date.now(), of the agent's
 * event times and of Python's time.time(), read through the monotonic clock since this process began.
 */
export const wallNow = () => performance.timeOrigin + performance.now();

/** The system's python3 (not a pyenv shim, which would add a shell and ~150 ms to every start). */
export const PYTHON = (() => {
  for (const p of ['/usr/bin/python3', '/bin/python3', '/usr/local/bin/python3']) if (fs.existsSync(p)) return p;
  for (const d of (process.env.PATH ?? '').split(':')) if (d && fs.existsSync(path.join(d, 'python3'))) return path.join(d, 'python3');
  return null;
})();

// ---------------------------------------------------------------------------------------------
// Settings and statistics

/** A whole number from the environment, bounded; `dflt` when unset. */
export function envInt(name, dflt, { min = 1, max = 1_000_000 } = {}) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name}=${v}: expected a number from ${min} to ${max}`);
  return Math.round(n);
}

/** Nearest-rank percentile of sorted numbers (p in 0..100). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return null;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const round = (x, digits = 2) => (x === null || x === undefined ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/** n, min, median, p95, p99, max, mean of a sample (p95/p99 by nearest rank: with few samples they are the max). */
export function summarize(values, digits = 2) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return { n: 0, min: null, median: null, p95: null, p99: null, max: null, mean: null };
  return {
    n: s.length,
    min: round(s[0], digits),
    median: round(median(s), digits),
    p95: round(percentile(s, 95), digits),
    p99: round(percentile(s, 99), digits),
    max: round(s[s.length - 1], digits),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length, digits),
  };
}

export { round };

// ---------------------------------------------------------------------------------------------
// Results

function gitDescribe() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'agent', 'common'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return { commit, sourceDirty: dirty };
  } catch {
    return { commit: null, sourceDirty: null };
  }
}

/**
 * Writes bench-results/NAME.json: { name, figures, anchors, ratio, target, met, notes, ... } and
 * prints a readable summary. `notes` is a list of sentences.
 */
export function writeResult(result) {
  const load = os.loadavg()[0];
  const busy = load > os.cpus().length / 2
    ? [`The 1-minute load average was ${round(load)} on ${os.cpus().length} cores when this was written: other work was running, so medians of few samples are noisy; compare ratios from one run, not absolute times across runs.`]
    : [];
  const full = {
    name: result.name,
    figures: result.figures,
    anchors: result.anchors ?? {},
    headline: result.headline ?? null,
    ratio: result.ratio ?? null,
    target: result.target,
    met: result.met,
    notes: [...(result.notes ?? []), ...busy],
    environment: {
      at: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      loadavg: os.loadavg().map((x) => round(x)),
      ...gitDescribe(),
    },
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${result.name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`);
  printResult(full);
  console.log(`written: ${path.relative(process.cwd(), file) || file}`);
  return full;
}

function fmtStats(s, unit) {
  if (!s || typeof s !== 'object' || !('median' in s)) return JSON.stringify(s);
  return `median ${s.median} ${unit}, p95 ${s.p95}, p99 ${s.p99}, min ${s.min}, max ${s.max} (n=${s.n})`;
}

export function printResult(r) {
  const line = '-'.repeat(78);
  console.log(line);
  console.log(`benchmark: ${r.name}`);
  const show = (label, obj, indent) => {
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'samples') continue;
      if (v && typeof v === 'object' && 'median' in v) console.log(`${indent}${label}${k}: ${fmtStats(v, v.unit ?? 'ms')}`);
      else if (v && typeof v === 'object' && !Array.isArray(v)) show(`${label}${k}.`, v, indent);
      else console.log(`${indent}${label}${k}: ${Array.isArray(v) ? JSON.stringify(v) : v}`);
    }
  };
  console.log('figures:');
  show('', r.figures, '  ');
  if (Object.keys(r.anchors ?? {}).length) {
    console.log('anchors:');
    show('', r.anchors, '  ');
  }
  if (r.headline) console.log(`headline: ${r.headline}`);
  console.log(`ratio: ${r.ratio}   target: ${r.target}   met: ${r.met}`);
  if (r.notes?.length) {
    console.log('notes:');
    for (const n of r.notes) console.log(`  - ${n}`);
  }
  console.log(line);
}

// ---------------------------------------------------------------------------------------------
// /proc

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/PID/stat after the command name: state, ppid, pgrp, utime, stime, startTicks. */
export function procStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    state: rest[0],
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    utime: Number(rest[11]),
    stime: Number(rest[12]),
    /** CPU of its children that exited and that it waited for (an agent's probe commands). */
    cutime: Number(rest[13]),
    cstime: Number(rest[14]),
    startTicks: Number(rest[19]),
  };
}

export function isAlive(pid) {
  const s = procStat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

/** True while `pid` is alive and still the process that started at `ticks`. */
export function isSameLive(pid, ticks) {
  const s = procStat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X' && s.startTicks === ticks;
}

/** VmRSS / VmHWM of a process, in kB. */
export function procMemKb(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const get = (key) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  return { rss: get('VmRSS'), hwm: get('VmHWM') };
}

/** utime + stime of a process, in clock ticks. */
export function cpuTicks(pid) {
  const s = procStat(pid);
  return s ? s.utime + s.stime : null;
}

/** CPU ticks of the children `pid` waited for (exited ones: probe commands), or null when it is gone. */
export function waitedChildTicks(pid) {
  const s = procStat(pid);
  return s ? s.cutime + s.cstime : null;
}

/** Pids of live processes whose command line is exactly `argv` (used only to verify, never to kill). */
export function pidsByArgv(argv) {
  const want = `${argv.join('\0')}\0`;
  const out = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8') === want && isAlive(Number(e))) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * CPU ticks of each thread of a process (/proc/PID/task/TID/stat), summed by thread name
 * (`node` is the main thread; `libuv-worker`, `V8 DefaultWorke`… are Node's and V8's helper threads).
 */
export function threadTicks(pid) {
  const out = {};
  let tids;
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  for (const tid of tids) {
    try {
      const text = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
      const key = Number(tid) === pid ? 'main' : name;
      out[key] = (out[key] ?? 0) + Number(rest[11]) + Number(rest[12]);
    } catch {
      // the thread ended
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Waiting

/** Polls `check` until truthy (every `everyMs`), at most `timeoutMs`; throws with `what` otherwise. */
export async function waitFor(what, check, { timeoutMs = 10_000, everyMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await sleep(everyMs);
  }
}

/** Waits until `pid` is gone or a zombie; a tight /proc loop, bounded. */
export function waitDeadSync(pid, timeoutMs = 5000) {
  const deadline = now() + timeoutMs;
  while (now() < deadline) if (!isAlive(pid)) return true;
  return false;
}

export async function waitDead(pid, timeoutMs = 10_000) {
  try {
    await waitFor(`pid ${pid} to end`, () => !isAlive(pid), { timeoutMs, everyMs: 10 });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// TCP

/** One connection attempt to 127.0.0.1:port: resolves {ok, at, pid} (pid = first line the server sent). */
export function tryConnect(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    let at = null;
    let data = '';
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: at !== null, at, pid: null, error: 'timeout' }), timeoutMs);
    s.once('connect', () => (at = now()));
    s.on('data', (d) => {
      data += d.toString();
      const nl = data.indexOf('\n');
      if (nl !== -1) finish({ ok: true, at, pid: Number(data.slice(0, nl)) });
    });
    s.once('error', (e) => finish({ ok: false, at: null, pid: null, error: e.code ?? e.message }));
    s.once('close', () => finish({ ok: at !== null, at, pid: null, error: 'closed before the greeting' }));
  });
}

/**
 * Tries to connect every `everyMs` until a process other than `notPid` accepts; returns the time
 * of the accepted connection and the pid that served it. Bounded by `timeoutMs`.
 */
export async function pollConnect(port, { notPid = null, everyMs = 1, timeoutMs = 15_000 } = {}) {
  const deadline = now() + timeoutMs;
  let attempts = 0;
  while (now() < deadline) {
    attempts += 1;
    const r = await tryConnect(port, 2000);
    if (r.ok && r.pid !== null && r.pid !== notPid) return { at: r.at, pid: r.pid, attempts };
    await sleep(everyMs);
  }
  throw new Error(`nothing new accepted on 127.0.0.1:${port} within ${timeoutMs} ms (${attempts} attempts)`);
}

export function portInUse(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Refuses to start when something already listens on a port we chose. */
export async function assertPortsFree(ports) {
  for (const p of ports) if (await portInUse(p)) throw new Error(`port ${p} on 127.0.0.1 is already in use: pick another (BENCH_PORT_BASE)`);
}

/** The tiny server of the benchmarks: listens on 127.0.0.1:PORT and greets every client with its pid. */
export const SERVER_JS = `'use strict';
const net = require('node:net');
const port = Number(process.argv[2]);
const server = net.createServer((s) => { s.on('error', () => {}); s.end(process.pid + '\\n'); });
server.listen(port, '127.0.0.1');
`;

/**
 * A tiny HTTP server in Python (one process, one thread, stable pid), for services with probes:
 *   python3 httpd.py PORT LOG COUNTS LIFETIME_S
 * answers every request with 200 "ok". LOG ('-' for none): one line "PID UNIXTIME" per answered
 * request, appended (a request answered just before a SIGSTOP is written by the SIGTERM handler when
 * the process is resumed and stopped). COUNTS ('-' for none): "HTTP_REQUESTS CONNECTIONS" rewritten
 * at most every 250 ms. Exits by itself after LIFETIME_S (bounded even if it were leaked).
 */
export const PY_HTTPD = `import os, signal, socket, sys, time
port, log, counts, lifetime = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
pid = os.getpid()
fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600) if log != '-' else -1
cfd = os.open(counts, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if counts != '-' else -1
answered = None
logged = None
def on_term(signum, frame):
    if fd >= 0 and answered is not None and answered != logged:
        os.write(fd, b'%d %.6f\\n' % (pid, answered))
    os._exit(0)
signal.signal(signal.SIGTERM, on_term)
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', port))
srv.listen(128)
srv.settimeout(1.0)
REPLY = b'HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 3\\r\\nConnection: close\\r\\n\\r\\nok\\n'
requests = 0
connections = 0
written = 0.0
end = time.time() + lifetime
while time.time() < end:
    try:
        c, _ = srv.accept()
    except socket.timeout:
        continue
    t = time.time()
    connections += 1
    try:
        c.settimeout(1.0)
        if c.recv(4096):
            c.sendall(REPLY)
            requests += 1
            answered = t
            if fd >= 0:
                os.write(fd, b'%d %.6f\\n' % (pid, t))
            logged = t
    except OSError:
        pass
    finally:
        c.close()
    if cfd >= 0 and t - written >= 0.25:
        os.pwrite(cfd, b'%20d %20d\\n' % (requests, connections), 0)
        written = t
`;

/** Reads the COUNTS file of PY_HTTPD: { requests, connections }, or null. */
export function readHttpdCounts(file) {
  try {
    const [requests, connections] = fs.readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    return Number.isFinite(requests) && Number.isFinite(connections) ? { requests, connections } : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Processes we start, and their cleanup

/**
 * Every process a benchmark starts is tracked here by pid and start time, so that cleanup signals
 * only those very processes (never a recycled pid, never anything by name).
 */
/**
 * Runs one benchmark: its body gets a process tracker that is cleaned up however the body ends
 * (every process and temp folder it tracked); a failure is printed and sets the exit code.
 */
export function runBenchmark(name, body) {
  const tracker = new Tracker();
  body(tracker)
    .finally(() => tracker.cleanup())
    .catch((e) => {
      console.error(`${name} failed: ${e.stack ?? e.message}`);
      process.exitCode = 1;
    });
}

export class Tracker {
  constructor() {
    this.procs = new Map(); // pid -> { ticks, group }
    this.cleanups = [];
    this.dirs = [];
    this.cleaning = null;
    process.once('exit', () => this.killAllSync());
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      // process.on, not once: a second signal (the terminal's and run.js's) must not cut the cleanup short.
      process.on(sig, () => {
        if (this.cleaning) return;
        console.error(`\n${sig}: cleaning up`);
        this.cleanup().finally(() => process.exit(130));
      });
    }
  }

  /** Tracks a pid (its process group too when `group`). */
  track(pid, { group = false } = {}) {
    if (!pid || this.procs.has(pid)) return;
    const s = procStat(pid);
    if (s) this.procs.set(pid, { ticks: s.startTicks, group });
  }

  /** Throws once cleanup has begun: nothing new may be started then (it would outlive the benchmark). */
  assertRunning() {
    if (this.cleaning) throw new Error('cleaning up: not starting anything new');
  }

  /** A scratch directory, removed by cleanup when every process is gone (kept otherwise). */
  tmpDir(prefix) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `armory-bench-${prefix}-`));
    this.dirs.push(dir);
    return dir;
  }

  /** Registers an async cleanup step (run first, in reverse order), such as an agent shutdown. */
  onCleanup(fn) {
    this.cleanups.push(fn);
  }

  killAllSync() {
    for (const [pid, { ticks, group }] of this.procs) {
      if (!isSameLive(pid, ticks)) continue;
      if (group) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // no such group
        }
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  /** Runs the cleanup steps, then SIGKILLs whatever tracked process is still alive; reports leftovers. */
  cleanup() {
    this.cleaning ??= (async () => {
      for (const fn of [...this.cleanups].reverse()) {
        try {
          await fn();
        } catch (e) {
          console.error(`cleanup step failed: ${e.message}`);
        }
      }
      this.killAllSync();
      await sleep(100);
      const left = [...this.procs].filter(([pid, { ticks }]) => isSameLive(pid, ticks)).map(([pid]) => pid);
      if (left.length) console.error(`cleanup: still alive after SIGKILL: ${left.join(', ')}; kept ${this.dirs.join(', ')}`);
      else for (const d of this.dirs) fs.rmSync(d, { recursive: true, force: true });
      return left;
    })();
    return this.cleaning;
  }
}

/** Runs the real `armory-agent` command line. */
export function cli(args, timeoutMs = 20_000) {
  return new Promise((resolve) => {
    execFile(NODE, [AGENT_BIN, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** One request on the agent's control socket (the same newline-delimited JSON RPC the CLI speaks). */
export function rpc(socketPath, method, params, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socketPath);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => s.write(`${JSON.stringify(params === undefined ? { id: 1, method } : { id: 1, method, params })}\n`));
    s.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      s.destroy();
      try {
        const msg = JSON.parse(buf.slice(0, nl));
        if (msg.ok) resolve(msg.result);
        else reject(new Error(`${msg.error?.code}: ${msg.error?.message}`));
      } catch (e) {
        reject(e);
      }
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** YAML for the agent (JSON is YAML): `services` maps names to service configs. */
export function agentConfigYaml(services) {
  const lines = ['services:'];
  for (const [name, spec] of Object.entries(services)) {
    lines.push(`  ${name}:`);
    for (const [k, v] of Object.entries(spec)) lines.push(`    ${k}: ${JSON.stringify(v)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * redis-benchmark (10 clients, no pipelining, random keys) against host:port, in a network
 * namespace when `netns` is given: requests per second of SET and GET.
 */
export function redisBenchmark({ netns = null, host, port, requests }) {
  return new Promise((resolve, reject) => {
    const bench = ['/usr/bin/redis-benchmark', '-h', host, '-p', String(port), '-t', 'set,get', '-n', String(requests), '-c', '10', '-P', '1', '-r', '100000', '--csv'];
    const [cmd, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...bench] : bench;
    execFile(cmd, args, { timeout: 300_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`redis-benchmark ${host}:${port}: ${error.message} ${stderr}`));
      const rps = {};
      for (const line of stdout.split('\n')) {
        const m = /^"(SET|GET)","([\d.]+)"/.exec(line);
        if (m) rps[m[1].toLowerCase()] = Number(m[2]);
      }
      if (rps.set === undefined || rps.get === undefined) return reject(new Error(`redis-benchmark printed no figures: ${stdout} ${stderr}`));
      resolve(rps);
    });
  });
}

/** An Armory agent run as `armory-agent run` in a scratch directory, with its programs tracked. */
export class ArmoryAgent {
  constructor(tracker, dir, services) {
    this.tracker = tracker;
    this.dir = dir;
    this.stateDir = path.join(dir, 'state');
    this.socket = path.join(this.stateDir, 'agent.sock');
    this.configFile = path.join(dir, 'armory.yaml');
    this.child = null;
    this.starts = 0;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(this.configFile, agentConfigYaml(services));
    tracker.onCleanup(() => this.shutdown());
  }

  /** Spawns the agent; returns the spawn time (performance.now()) without waiting. */
  spawn() {
    this.tracker.assertRunning();
    this.starts += 1;
    const log = fs.openSync(path.join(this.dir, `agent-${this.starts}.log`), 'a');
    const t = now();
    // A process group of its own: a Ctrl-C at the terminal reaches the benchmark, which cleans up in order.
    const child = spawn(NODE, [AGENT_BIN, 'run', '--config', this.configFile, '--state-dir', this.stateDir], { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    child.on('error', () => undefined);
    this.child = child;
    this.tracker.track(child.pid);
    return t;
  }

  get pid() {
    return this.child?.pid ?? null;
  }

  /** Starts the agent and waits until its control socket answers. */
  async start(timeoutMs = 20_000) {
    this.spawn();
    const child = this.child;
    await waitFor('the agent to answer on its control socket', async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the agent exited (${child.exitCode ?? child.signalCode}); see ${this.dir}/agent-${this.starts}.log`);
      return await this.status().then(() => true, () => false);
    }, { timeoutMs, everyMs: 20 });
  }

  async status() {
    const s = await rpc(this.socket, 'status');
    for (const svc of s.services) if (svc.pid) this.tracker.track(svc.pid, { group: true });
    return s;
  }

  /** `armory-agent status --json` through the real command line. */
  async cliStatus() {
    const r = await cli(['status', '--json', '--state-dir', this.stateDir]);
    if (r.code !== 0) throw new Error(`status --json failed (${r.code}): ${r.stderr.trim()}`);
    const s = JSON.parse(r.stdout);
    for (const svc of s.services) if (svc.pid) this.tracker.track(svc.pid, { group: true });
    return s;
  }

  async cliEvents(limit = 1000) {
    const r = await cli(['events', '--json', '--limit', String(limit), '--state-dir', this.stateDir]);
    if (r.code !== 0) throw new Error(`events --json failed (${r.code}): ${r.stderr.trim()}`);
    return JSON.parse(r.stdout);
  }

  /** Waits until every service is running with a pid; returns the status. */
  waitAllRunning(count, timeoutMs = 20_000) {
    return waitFor(`${count} services running`, async () => {
      const s = await this.status();
      return s.services.length === count && s.services.every((x) => x.state === 'running' && x.pid) ? s : undefined;
    }, { timeoutMs, everyMs: 25 });
  }

  /** SIGKILL of the agent process (its programs keep running); waits until it is gone. */
  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGKILL');
    await Promise.race([exited, sleep(10_000)]);
  }

  /** `armory-agent shutdown`: stops every program, then the agent; SIGKILL if it does not end. */
  async shutdown() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const r = await cli(['shutdown', '--state-dir', this.stateDir]);
    // Without an answer, its programs are stopped by the tracker (they are tracked by pid).
    const waitMs = r.code === 0 ? 20_000 : 0;
    if (r.code !== 0) console.error(`armory-agent shutdown failed (${r.code}): ${r.stderr.trim()}`);
    const ended = await Promise.race([exited.then(() => true), sleep(waitMs).then(() => false)]);
    if (!ended) {
      if (waitMs) console.error(`the agent did not exit within ${waitMs / 1000} s of shutdown: SIGKILL`);
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(5000)]);
    }
  }

  logText() {
    let out = '';
    for (let i = 1; i <= this.starts; i += 1) {
      try {
        out += fs.readFileSync(path.join(this.dir, `agent-${i}.log`), 'utf8');
      } catch {
        // none
      }
    }
    return out;
  }
}

/** supervisord with its own configuration in a scratch directory, run in the foreground as our child. */
export class Supervisord {
  constructor(tracker, dir, programs) {
    this.tracker = tracker;
    this.dir = dir;
    this.conf = path.join(dir, 'supervisord.conf');
    this.child = null;
    this.programs = programs;
    fs.mkdirSync(dir, { recursive: true });
    const sections = [
      '[unix_http_server]',
      `file=${dir}/supervisor.sock`,
      'chmod=0700',
      '',
      '[supervisord]',
      'nodaemon=true',
      `logfile=${dir}/supervisord.log`,
      `pidfile=${dir}/supervisord.pid`,
      `childlogdir=${dir}`,
      'loglevel=info',
      // As root, supervisord wants to be told explicitly that it stays root.
      ...(process.getuid?.() === 0 ? ['user=root'] : []),
      '',
      '[rpcinterface:supervisor]',
      'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
      '',
      '[supervisorctl]',
      `serverurl=unix://${dir}/supervisor.sock`,
      '',
    ];
    for (const [name, p] of Object.entries(programs)) {
      sections.push(
        `[program:${name}]`,
        `command=${p.command}`,
        'autostart=true',
        'autorestart=true',
        'startsecs=0',
        'startretries=1000',
        `stopsignal=${p.stopsignal ?? 'TERM'}`,
        'stopwaitsecs=2',
        `stdout_logfile=${p.stdoutLog ?? 'NONE'}`,
        `stderr_logfile=${p.stdoutLog ?? 'NONE'}`,
        '',
      );
    }
    fs.writeFileSync(this.conf, sections.join('\n'));
    tracker.onCleanup(() => this.stop());
  }

  async start(timeoutMs = 20_000) {
    this.tracker.assertRunning();
    const log = fs.openSync(path.join(this.dir, 'supervisord.out'), 'a');
    this.child = spawn('/usr/bin/supervisord', ['-n', '-c', this.conf], { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    this.child.on('error', () => undefined);
    this.tracker.track(this.child.pid);
    const child = this.child;
    const names = Object.keys(this.programs);
    await waitFor('supervisord to run its programs', async () => {
      if (child.exitCode !== null) throw new Error(`supervisord exited (${child.exitCode}); see ${this.dir}/supervisord.out`);
      const pids = await this.pids();
      return names.every((n) => pids[n]) ? pids : undefined;
    }, { timeoutMs, everyMs: 100 });
  }

  get pid() {
    return this.child?.pid ?? null;
  }

  ctl(args, timeoutMs = 10_000) {
    return new Promise((resolve) => {
      execFile('/usr/bin/supervisorctl', ['-c', this.conf, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  }

  /** `supervisorctl pid NAME` for one program: its pid, or null when not running. */
  async pidOf(name) {
    const r = await this.ctl(['pid', name]);
    const pid = Number(r.stdout.trim());
    if (Number.isInteger(pid) && pid > 0) {
      this.tracker.track(pid, { group: true });
      return pid;
    }
    return null;
  }

  /** Pids of every program, from `supervisorctl status` (one call). */
  async pids() {
    const r = await this.ctl(['status']);
    const out = {};
    for (const line of r.stdout.split('\n')) {
      const m = /^(\S+)\s+RUNNING\s+pid (\d+)/.exec(line);
      if (m) {
        out[m[1]] = Number(m[2]);
        this.tracker.track(Number(m[2]), { group: true });
      }
    }
    return out;
  }

  /** SIGTERM: supervisord stops its programs and exits; SIGKILL after 15 s. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const ended = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
    if (!ended) child.kill('SIGKILL');
  }
}
