// Benchmark: the CPU the file mirror spends per small append, for a service that appends a short
// record to one file very often (redis with `appendonly yes` and `appendfsync always` appends its
// AOF on every SET). A writer (Python, one process) appends 100-byte records to
// appendonlydir/appendonly.aof.1.incr.aof at a fixed rate, each followed by fdatasync (as redis
// does), in a folder on tmpfs (/dev/shm, as the campaign's per-host tmpfs) that the agent's own
// FolderMirror (the "active" process) mirrors to two standby ends (the agent's Mirrors behind its
// control server on mutual-TLS ports of 127.0.0.1, both in one "standby" process), as in the
// availability campaign (redis mirrored to two standbys).
// Figures per rate: CPU per 1,000 appends of the active side, of the two standbys, and of the
// writer (the anchor: what the service itself spends to make the appends); how far the copies lag
// behind while it writes (bytes behind, sampled every 20 ms) and how long after the last append
// both copies have every byte; the copies identical after a barrier.
//
//   node test/bench/mirror-appends.js   (BENCH_RATES=500,2000,10000 appends/s, BENCH_SECONDS=5 per rate,
//                                        BENCH_RECORD=100 bytes, BENCH_INTERVAL=50 ms (mirror.interval),
//                                        BENCH_PROF=DIR to write .cpuprofile files of the active and
//                                        standby processes into DIR)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { importTs } from './_import-ts.js';
import { NODE, PYTHON, ROOT, envInt, now, round, runBenchmark, sleep, summarize, waitFor, writeResult } from './lib.js';

const NAME = 'mirror-appends';
const RATES = (process.env.BENCH_RATES ?? '500,2000,10000').split(',').map((r) => {
  const n = Number(r);
  if (!Number.isInteger(n) || n < 10 || n > 100_000) throw new Error(`BENCH_RATES=${process.env.BENCH_RATES}: expected appends per second from 10 to 100000, comma-separated`);
  return n;
});
const SECONDS = envInt('BENCH_SECONDS', 5, { min: 1, max: 120 });
const RECORD = envInt('BENCH_RECORD', 100, { min: 1, max: 65_536 });
const INTERVAL = envInt('BENCH_INTERVAL', 50, { min: 1, max: 10_000 });
const PROF = process.env.BENCH_PROF ? path.resolve(process.env.BENCH_PROF) : null;
const AOF = 'appendonlydir/appendonly.aof.1.incr.aof';
/** Target: the mirror (active + standbys) spends at most this share of the writer's own CPU per append. */
const TARGET_RATIO = 0.5;

// Appends RECORD-byte records at RATE/s for SECONDS, each followed by fdatasync; prints its own
// CPU time and how many it wrote as JSON.
const WRITER_PY = `import json, os, sys, time
path, rate, seconds, record = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
n, total = 0, int(rate * seconds)
t0 = time.monotonic()
c0 = os.times()
while n < total:
    due = min(total, int((time.monotonic() - t0) * rate) + 1)
    while n < due:
        line = (b'*3 $3 SET $8 key:%08d $%d ' % (n % 100000000, record)).ljust(record - 1, b'x') + b'\\n'
        os.write(fd, line[:record])
        os.fdatasync(fd)
        n += 1
    time.sleep(0.0005)
c1 = os.times()
os.close(fd)
print(json.dumps({"appends": n, "cpuMs": ((c1.user - c0.user) + (c1.system - c0.system)) * 1000, "wallMs": (time.monotonic() - t0) * 1000}))
`;

// ---------------------------------------------------------------------------------------------
// The child processes: a standby process (two receiving ends) and the active process (FolderMirror).

/** One JSON line out. */
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

/** Answers commands (one JSON line each: { cmd }) with one JSON line each, in order. */
function serve(handlers) {
  const rl = readline.createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      const { cmd } = JSON.parse(line);
      try {
        say({ ok: true, ...(await handlers[cmd]()) });
      } catch (e) {
        say({ ok: false, error: e.message });
      }
      if (cmd === 'stop') process.exit(0);
    });
  });
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return { cpuMs: (u.user + u.system) / 1000 };
};

async function standbyRole(dir) {
  const rig = await importTs(ROOT, 'test/bench', ['_mirror-rig.ts']);
  const pki = JSON.parse(fs.readFileSync(path.join(dir, 'pki.json'), 'utf8'));
  const ends = [];
  for (const name of ['standby1', 'standby2']) ends.push(await rig.mirrorPeerEnd(path.join(dir, name), pki));
  serve({
    cpu: cpuNow,
    stop: async () => {
      for (const e of ends) await e.close();
      return {};
    },
  });
  say({ ports: ends.map((e) => e.port) });
}

async function activeRole(dir, ports) {
  const rig = await importTs(ROOT, 'test/bench', ['_mirror-rig.ts']);
  const pki = JSON.parse(fs.readFileSync(path.join(dir, 'pki.json'), 'utf8'));
  const links = ports.map((port, i) => rig.peerTargetTo(pki, port, path.join(dir, `standby${i + 1}`)));
  // Calls made to the standbys (each a round trip over TLS).
  let calls = 0;
  for (const l of links) {
    const apply = l.target.apply.bind(l.target);
    l.target.apply = (op) => {
      calls += 1;
      return apply(op);
    };
  }
  const fm = new rig.FolderMirror({ service: 'svc', folder: path.join(dir, 'src'), targets: links.map((l) => l.target), lagAlertMs: 600_000, scrubMs: 36_000_000, copyIntervalMs: INTERVAL, event: () => undefined });
  await fm.start();
  await fm.barrier();
  serve({
    cpu: () => ({ ...cpuNow(), calls }),
    barrier: async () => {
      const t0 = now();
      await fm.barrier();
      return { barrierMs: now() - t0 };
    },
    status: () => ({ status: fm.status() }),
    stop: async () => {
      await fm.close();
      for (const l of links) l.close();
      return {};
    },
  });
  say({ ready: true });
}

// ---------------------------------------------------------------------------------------------
// The benchmark

/** A child node process running one role of this script, with a command channel. */
async function child(tracker, role, args, profName) {
  const flags = PROF ? ['--cpu-prof', '--cpu-prof-dir', PROF, '--cpu-prof-name', `${profName}.cpuprofile`] : [];
  const proc = spawn(NODE, [...flags, path.join(ROOT, 'test/bench/mirror-appends.js'), role, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  tracker.track(proc.pid);
  const lines = [];
  let wake = null;
  readline.createInterface({ input: proc.stdout }).on('line', (l) => {
    lines.push(JSON.parse(l));
    wake?.();
  });
  const next = async (timeoutMs = 60_000) => {
    const deadline = now() + timeoutMs;
    while (lines.length === 0) {
      if (now() > deadline || proc.exitCode !== null) throw new Error(`${role}: no answer (exit ${proc.exitCode})`);
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    return lines.shift();
  };
  const ask = async (cmd, timeoutMs) => {
    proc.stdin.write(`${JSON.stringify({ cmd })}\n`);
    const r = await next(timeoutMs);
    if (!r.ok) throw new Error(`${role} ${cmd}: ${r.error}`);
    return r;
  };
  const first = await next();
  const stop = async () => {
    if (proc.exitCode !== null) return;
    await ask('stop').catch(() => undefined);
    await waitFor(`${role} to exit`, () => proc.exitCode !== null, { timeoutMs: 10_000 }).catch(() => proc.kill('SIGKILL'));
  };
  tracker.onCleanup(stop);
  return { first, ask, stop };
}

const sizeOf = (f) => fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0;

/** One rate: the writer appends for SECONDS; CPU of every process and the copies' lag. */
async function oneRate(tracker, dir, active, standby, rate) {
  const src = path.join(dir, 'src', AOF);
  const copies = ['standby1', 'standby2'].map((n) => path.join(dir, n, AOF));
  await active.ask('barrier');
  const a0 = await active.ask('cpu');
  const before = { active: a0.cpuMs, calls: a0.calls, standby: (await standby.ask('cpu')).cpuMs };
  const writerPy = path.join(dir, 'writer.py');
  const writer = spawn(PYTHON, ['-S', writerPy, src, String(rate), String(SECONDS), String(RECORD)], { stdio: ['ignore', 'pipe', 'inherit'] });
  tracker.track(writer.pid);
  let out = '';
  writer.stdout.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => writer.on('exit', resolve));
  // Bytes behind, sampled while it writes.
  const behind = [];
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    const s = sizeOf(src);
    behind.push(Math.max(...copies.map((c) => s - sizeOf(c))));
    await sleep(20);
  }
  const writerEnd = now();
  const finalSize = sizeOf(src);
  let caughtUpMs = null;
  while (now() - writerEnd < 30_000) {
    if (copies.every((c) => sizeOf(c) === finalSize)) {
      caughtUpMs = now() - writerEnd;
      break;
    }
    await sleep(1);
  }
  const a1 = await active.ask('cpu');
  const after = { active: a1.cpuMs, calls: a1.calls, standby: (await standby.ask('cpu')).cpuMs };
  const w = JSON.parse(out);
  const barrier = await active.ask('barrier');
  const identical = copies.every((c) => fs.readFileSync(c).equals(fs.readFileSync(src)));
  const per1k = (ms) => round((ms * 1000) / w.appends, 2);
  const r = {
    rate,
    appends: w.appends,
    writerWallMs: round(w.wallMs, 0),
    cpuMsPer1k: { active: per1k(after.active - before.active), standbys: per1k(after.standby - before.standby), mirror: per1k(after.active - before.active + after.standby - before.standby), writer: per1k(w.cpuMs) },
    callsPer1k: round(((after.calls - before.calls) * 1000) / w.appends, 1),
    bytesBehind: { ...summarize(behind, 0), unit: 'B' },
    lagMsEstimate: { median: round((summarize(behind).median / (rate * RECORD)) * 1000, 1), max: round((Math.max(...behind) / (rate * RECORD)) * 1000, 1) },
    caughtUpAfterLastAppendMs: round(caughtUpMs, 1),
    barrierAfterMs: round(barrier.barrierMs, 1),
    identical,
  };
  console.log(
    `  ${rate}/s × ${SECONDS} s (${w.appends} appends of ${RECORD} B): CPU per 1,000 appends: active ${r.cpuMsPer1k.active} ms, standbys ${r.cpuMsPer1k.standbys} ms, writer ${r.cpuMsPer1k.writer} ms; ${r.callsPer1k} calls to the standbys per 1,000; behind median ${r.bytesBehind.median} B / max ${r.bytesBehind.max} B (≈ ${r.lagMsEstimate.max} ms); all there ${r.caughtUpAfterLastAppendMs} ms after the last append; identical: ${identical}`,
  );
  return r;
}

async function main(tracker) {
  if (!PYTHON) throw new Error('python3 is needed for the writer and was not found');
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const dir = fs.mkdtempSync(path.join(base, 'armory-bench-mirror-appends-'));
  tracker.dirs.push(dir);
  if (PROF) fs.mkdirSync(PROF, { recursive: true });
  fs.writeFileSync(path.join(dir, 'writer.py'), WRITER_PY);
  fs.mkdirSync(path.join(dir, 'src', path.dirname(AOF)), { recursive: true });
  // An AOF with some history, as a redis that ran a while has.
  fs.writeFileSync(path.join(dir, 'src', AOF), Buffer.alloc(1024 * 1024, 'x'));
  const rig = await importTs(ROOT, 'test/bench', ['_mirror-rig.ts']);
  fs.writeFileSync(path.join(dir, 'pki.json'), JSON.stringify(await rig.shimPki()), { mode: 0o600 });
  const standby = await child(tracker, 'standby', [dir], 'standbys');
  const active = await child(tracker, 'active', [dir, ...standby.first.ports.map(String)], 'active');
  console.log(`FolderMirror (one process, mirror.interval ${INTERVAL} ms) → two standby ends (one process) over mutual TLS on loopback; folder on ${base}:`);
  const runs = [];
  for (const rate of RATES) runs.push(await oneRate(tracker, dir, active, standby, rate));
  await active.stop();
  await standby.stop();

  const top = runs.at(-1);
  const ratio = round(top.cpuMsPer1k.mirror / top.cpuMsPer1k.writer, 2);
  writeResult({
    name: NAME,
    figures: { intervalMs: INTERVAL, ...Object.fromEntries(runs.map((r) => [`${r.rate}PerS`, r])) },
    anchors: { writerCpuMsPer1k: Object.fromEntries(runs.map((r) => [`${r.rate}PerS`, r.cpuMsPer1k.writer])) },
    headline: runs.map((r) => `${r.rate}/s: mirror ${r.cpuMsPer1k.mirror} ms CPU per 1,000 appends (active ${r.cpuMsPer1k.active}, two standbys ${r.cpuMsPer1k.standbys}) vs the writer's ${r.cpuMsPer1k.writer} ms; copies ≤ ${r.bytesBehind.max} B behind, complete ${r.caughtUpAfterLastAppendMs} ms after the last append`).join('; '),
    ratio,
    target: `mirror CPU (active + two standbys) per append ≤ ${TARGET_RATIO} × the writer's own, at ${top.rate}/s`,
    met: ratio <= TARGET_RATIO && runs.every((r) => r.identical),
    notes: [
      `Writer: ${PYTHON} -S, one process, appends ${RECORD}-byte records (a RESP-like SET line) to ${AOF} at a fixed rate, os.write then os.fdatasync each (redis's appendfsync always), paced every 0.5 ms; its CPU is its own os.times() over the run (the anchor: what the service spends to make the appends; redis itself spent 15–19 ms per 1,000 requests in the campaign).`,
      `Mirror: the agent's FolderMirror (its settings as an agent runs it, mirror.interval ${INTERVAL} ms) in one node process, sending to two standby ends (the agent's Mirrors behind its control server on two mutual-TLS ports of 127.0.0.1) in a second node process; every folder on tmpfs (/dev/shm). CPU = process.cpuUsage() of each process from just before the writer starts until both copies have every byte (so the catch-up counts), divided by the appends.`,
      'Bytes behind = the source file\'s size minus the smaller copy\'s, sampled every 20 ms while the writer runs; the ms figure is that divided by the write rate. "All there" = from the writer\'s exit until both copies have the final size (polled every ms). A barrier then confirms the copies, which are compared byte for byte.',
      `ratio = mirror CPU per 1,000 appends / the writer's, at the highest rate (${top.rate}/s).`,
      'Before the mirror had its own watcher (chokidar 5, which read the folder again on every event in it; commit 0f5f11d, this benchmark, same machine): mirror CPU per 1,000 appends 1,040–1,090 ms at 500/s, 325–340 ms at 2,000/s, 84 ms at 10,000/s (active side 890 / 295–310 / 77 ms), copies ≤ 57–62 ms behind, ~23 calls to each standby a second.',
      'The CPU left is per copy (each a call to each standby, ~0.6 ms of CPU on each side here, and the look at the file before it): mirror.interval sets how often a file written without pause is copied; at 100 ms this benchmark measured ~20–50 % less CPU and copies ≤ ~120 ms behind, at 250 ms ~45–60 % less and ≤ ~270 ms behind.',
    ],
  });
}

const [role, ...args] = process.argv.slice(2);
if (role === 'standby') await standbyRole(args[0]);
else if (role === 'active') await activeRole(args[0], args.slice(1).map(Number));
else runBenchmark(NAME, main);
