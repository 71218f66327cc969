// Benchmark: what probing costs the agent. Three agents side by side, each running the same 20
// programs (a tiny Python HTTP server each, on ports of their own):
//   http  — every service has an HTTP probe, interval 100 ms, timeout 100 ms;
//   tcp   — every service has a TCP connect probe, interval 100 ms, timeout 100 ms;
//   none  — no probes (the anchor: the same agent, the same programs).
// A second anchor, in the same window: two bare Node processes making the same HTTP and TCP probes
// (against the no-probe agent's servers) with nothing else around them. After a warm-up, the CPU of
// each process (utime + stime from /proc/PID/stat, all threads, nothing subtracted) is measured over
// one window, as a share of one core; RSS once a second.
//
//   node test/bench/probe-cost.js          (BENCH_SECONDS=60 window, BENCH_WARMUP=12 s, BENCH_PORT_BASE=19300)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ArmoryAgent,
  CLK_TCK,
  NODE,
  PYTHON,
  PY_HTTPD,
  assertPortsFree,
  cpuTicks,
  envInt,
  now,
  procMemKb,
  procStat,
  readHttpdCounts,
  round,
  sleep,
  summarize,
  threadTicks,
  writeResult,
  runBenchmark,
} from './lib.js';

const NAME = 'probe-cost';
const SECONDS = envInt('BENCH_SECONDS', 60, { min: 2, max: 3600 });
// As in idle-footprint: V8's memory-reducing GC runs about 8 s after the start; the window begins after it.
const WARMUP_S = envInt('BENCH_WARMUP', 12, { min: 0, max: 600 });
const PORT_BASE = envInt('BENCH_PORT_BASE', 19300, { min: 19000, max: 19900 });
const SERVICES = 20;
const INTERVAL_MS = 100;
const TIMEOUT_MS = 100;
const TARGET_CPU_PCT = 1;

const VARIANTS = ['http', 'tcp', 'none'];

/**
 * A second anchor: the same probes from a bare Node process, with none of the agent around them —
 * what Node (and the kernel's loopback TCP) charge for a probe on this machine. The probe functions
 * follow agent/liveness/probes.ts (http.get with agent: false, a timeout timer, socket destroyed;
 * net.connect, destroyed on connect), and each target is probed again INTERVAL ms after the previous
 * probe settled, as the agent does.
 *   node bare-prober.cjs http|tcp FIRST_PORT COUNT INTERVAL_MS TIMEOUT_MS LIFETIME_S
 */
const BARE_PROBER_JS = `'use strict';
const http = require('node:http');
const net = require('node:net');
const [kind, first, count, interval, timeout, lifetime] = process.argv.slice(2).map((x, i) => (i === 0 ? x : Number(x)));
function httpProbe(url, cb) {
  let settled = false;
  const done = (ok) => { if (settled) return; settled = true; clearTimeout(timer); req.destroy(); cb(ok); };
  const req = http.get(url, { agent: false, headers: { 'user-agent': 'bare-prober' } }, (res) => done(res.statusCode >= 200 && res.statusCode <= 399));
  const timer = setTimeout(() => done(false), timeout);
  req.on('error', () => done(false));
}
function tcpProbe(port, cb) {
  const socket = net.connect({ host: '127.0.0.1', port });
  const done = (ok) => { clearTimeout(timer); socket.destroy(); cb(ok); };
  const timer = setTimeout(() => done(false), timeout);
  socket.once('connect', () => done(true));
  socket.once('error', () => done(false));
}
for (let i = 0; i < count; i += 1) {
  const port = first + i;
  const url = 'http://127.0.0.1:' + port + '/health';
  const loop = () => (kind === 'http' ? httpProbe(url, next) : tcpProbe(port, next));
  const next = () => setTimeout(loop, interval);
  loop();
}
setTimeout(() => process.exit(0), lifetime * 1000).unref();
setInterval(() => {}, 1 << 30);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
`;

function probesFor(variant, port) {
  if (variant === 'http') return [{ http: `http://127.0.0.1:${port}/health`, interval: `${INTERVAL_MS}ms`, timeout: `${TIMEOUT_MS}ms`, failures: 3 }];
  if (variant === 'tcp') return [{ tcp: `127.0.0.1:${port}`, interval: `${INTERVAL_MS}ms`, timeout: `${TIMEOUT_MS}ms`, failures: 3 }];
  return [];
}

const sum = (xs) => xs.reduce((a, b) => a + (b ?? 0), 0);

/** Total served requests / connections of a variant's servers. */
function countsOf(files) {
  const cs = files.map(readHttpdCounts);
  return { requests: sum(cs.map((c) => c?.requests)), connections: sum(cs.map((c) => c?.connections)), missing: cs.filter((c) => c === null).length };
}

/** CPU (all threads, and by thread name) and RSS of each agent over one window. */
async function measure(agents, seconds) {
  const start = {};
  const rss = {};
  for (const [k, a] of Object.entries(agents)) {
    start[k] = { ticks: cpuTicks(a.pid), stat: procStat(a.pid), threads: threadTicks(a.pid), counts: countsOf(a.countFiles ?? []) };
    rss[k] = [];
  }
  const t0 = now();
  const deadline = t0 + seconds * 1000;
  for (let i = 0; i < seconds + 5 && now() < deadline; i += 1) {
    for (const [k, a] of Object.entries(agents)) {
      const m = procMemKb(a.pid);
      if (m?.rss) rss[k].push(m.rss / 1024);
    }
    await sleep(Math.min(1000, Math.max(0, deadline - now())));
  }
  const wallS = (now() - t0) / 1000;
  const out = {};
  for (const [k, a] of Object.entries(agents)) {
    const ticks = cpuTicks(a.pid);
    if (ticks === null || start[k].ticks === null) throw new Error(`agent ${k} (pid ${a.pid}) ended during the measurement`);
    const threads = threadTicks(a.pid) ?? {};
    const byThread = {};
    for (const [name, t] of Object.entries(threads)) {
      const d = t - (start[k].threads?.[name] ?? 0);
      if (d > 0) byThread[name] = round((d / CLK_TCK / wallS) * 100, 3);
    }
    const counts = countsOf(a.countFiles ?? []);
    const st = procStat(a.pid);
    const pct = (t) => round((t / CLK_TCK / wallS) * 100, 3);
    out[k] = {
      cpuPct: pct(ticks - start[k].ticks),
      cpuTicks: ticks - start[k].ticks,
      userPct: pct(st.utime - start[k].stat.utime),
      systemPct: pct(st.stime - start[k].stat.stime),
      cpuPctByThread: byThread,
      rssMB: { ...summarize(rss[k], 1), unit: 'MB' },
      hwmMB: round((procMemKb(a.pid)?.hwm ?? 0) / 1024, 1),
      ...(a.countFiles
        ? {
            probesPerS: round((counts.requests - start[k].counts.requests) / wallS, 1),
            connectionsPerS: round((counts.connections - start[k].counts.connections) / wallS, 1),
          }
        : {}),
      windowS: round(wallS, 1),
    };
  }
  return out;
}

async function main(tracker) {
  if (!PYTHON) throw new Error('python3 is needed for the test programs and was not found');
  const dir = tracker.tmpDir('probecost');
  const httpdPy = path.join(dir, 'httpd.py');
  fs.writeFileSync(httpdPy, PY_HTTPD);
  const lifetimeS = WARMUP_S + SECONDS + 600;
  const notes = [];
  const anomalies = [];
  const ports = VARIANTS.flatMap((_v, vi) => Array.from({ length: SERVICES }, (_x, i) => PORT_BASE + vi * SERVICES + i));
  await assertPortsFree(ports);

  const agents = {};
  for (const [vi, variant] of VARIANTS.entries()) {
    const services = {};
    const countFiles = [];
    for (let i = 0; i < SERVICES; i += 1) {
      const port = PORT_BASE + vi * SERVICES + i;
      const counts = path.join(dir, `counts-${variant}-${i}`);
      countFiles.push(counts);
      services[`s${String(i + 1).padStart(2, '0')}`] = {
        command: PYTHON,
        args: ['-S', httpdPy, String(port), '-', counts, String(lifetimeS)],
        ...(variant === 'none' ? {} : { probes: probesFor(variant, port) }),
      };
    }
    const agent = new ArmoryAgent(tracker, path.join(dir, variant), services);
    agents[variant] = { agent, countFiles };
  }
  for (const { agent } of Object.values(agents)) await agent.start();
  for (const [variant, { agent }] of Object.entries(agents)) {
    const s = await agent.waitAllRunning(SERVICES);
    const notReady = s.services.filter((x) => !x.ready);
    if (notReady.length) {
      // Probed services are "running" only once ready, so this would be a contradiction.
      anomalies.push(`${variant}: ${notReady.length} services running but not ready at the start`);
    }
  }
  // The bare Node probers probe the no-probe agent's servers (which nothing else probes).
  const proberJs = path.join(dir, 'bare-prober.cjs');
  fs.writeFileSync(proberJs, BARE_PROBER_JS);
  const noneFirst = PORT_BASE + VARIANTS.indexOf('none') * SERVICES;
  const bare = {};
  for (const kind of ['http', 'tcp']) {
    tracker.assertRunning();
    const child = spawn(NODE, [proberJs, kind, String(noneFirst), String(SERVICES), String(INTERVAL_MS), String(TIMEOUT_MS), String(lifetimeS)], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    tracker.track(child.pid);
    tracker.onCleanup(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
    });
    bare[kind] = child;
  }
  const pids = Object.fromEntries(Object.entries(agents).map(([k, a]) => [k, a.agent.pid]));
  console.log(`${NAME}: 3 agents × ${SERVICES} Python HTTP servers (${Object.entries(pids).map(([k, p]) => `${k} pid ${p}`).join(', ')}); probes every ${INTERVAL_MS} ms; warm-up ${WARMUP_S} s, window ${SECONDS} s`);
  await sleep(WARMUP_S * 1000);

  const windowStart = Date.now();
  const w = await measure(
    {
      ...Object.fromEntries(Object.entries(agents).map(([k, a]) => [k, { pid: a.agent.pid, countFiles: a.countFiles }])),
      bareHttp: { pid: bare.http.pid },
      bareTcp: { pid: bare.tcp.pid },
    },
    SECONDS,
  );
  // The no-probe agent's servers count the bare probers' work: HTTP requests = bare HTTP probes;
  // connections = both probers.
  w.bareHttp.probesPerS = w.none.probesPerS;
  w.bareTcp.connectionsPerS = round(w.none.connectionsPerS - w.none.probesPerS, 1);
  delete w.none.probesPerS;
  delete w.none.connectionsPerS;
  for (const v of [...VARIANTS, 'bareHttp', 'bareTcp']) {
    console.log(`  ${v}: ${w[v].cpuPct} % CPU (user ${w[v].userPct}, system ${w[v].systemPct}), ${w[v].rssMB.median} MB RSS${w[v].probesPerS !== undefined ? `, ${w[v].probesPerS} HTTP probes/s` : ''}${w[v].connectionsPerS !== undefined ? `, ${w[v].connectionsPerS} connections/s` : ''}`);
  }

  // Afterwards (outside the window): every service still up, ready, never restarted, healthy.
  for (const [variant, { agent }] of Object.entries(agents)) {
    const s = await agent.status();
    const bad = s.services.filter((x) => x.state !== 'running' || !x.ready || x.restarts !== 0 || x.health);
    if (bad.length) anomalies.push(`${variant}: ${bad.length} services not running/ready, restarted or unhealthy after the window (e.g. ${JSON.stringify({ name: bad[0].name, state: bad[0].state, restarts: bad[0].restarts, health: bad[0].health })})`);
    const events = await agent.cliEvents(10_000);
    // (A first probe at the spawn, before the server listens, fails and then "passes again": only the window counts.)
    const failing = events.filter((e) => e.kind === 'liveness' && Date.parse(e.time) >= windowStart && / passes again|hang detected/.test(e.reason));
    if (failing.length) anomalies.push(`${variant}: ${failing.length} probe failure/recovery events in the window, e.g. "${failing[0].reason}"`);
  }

  const net = (v) => round(w[v].cpuPct - w.none.cpuPct, 3);
  const perProbeUs = (pct, rate) => (rate > 0 ? round((pct / 100 / rate) * 1e6, 1) : null);
  w.bareHttp.cpuPerProbeUs = perProbeUs(w.bareHttp.cpuPct, w.bareHttp.probesPerS);
  w.bareTcp.cpuPerProbeUs = perProbeUs(w.bareTcp.cpuPct, w.bareTcp.connectionsPerS);
  const figures = {
    httpProbes: { ...w.http, netOfAnchorPct: net('http'), cpuPerProbeUs: perProbeUs(net('http'), w.http.probesPerS) },
    tcpProbes: { ...w.tcp, netOfAnchorPct: net('tcp'), cpuPerProbeUs: perProbeUs(net('tcp'), w.tcp.connectionsPerS) },
    services: SERVICES,
    probe: { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS, nominalPerS: round((SERVICES * 1000) / INTERVAL_MS, 0) },
  };
  const met = w.http.cpuPct <= TARGET_CPU_PCT && w.tcp.cpuPct <= TARGET_CPU_PCT;
  notes.push(
    `Three agents run side by side in one window (${SECONDS} s after a ${WARMUP_S} s warm-up), each with ${SERVICES} services; each service is a Python HTTP server (${PYTHON} -S, one process and thread, a raw socket loop answering 200 "ok"; the same program for all three agents, so they differ only in their probes). Chosen: one probe per service, all HTTP in one agent and all TCP in another, so that each kind is costed separately (the mixed 10 + 10 case is their mean); the anchor is the same agent with the same 20 programs and no probes.`,
    `CPU = (utime+stime) of the agent process (every thread) over the window / CLK_TCK (${CLK_TCK}) / wall time, as a percentage of one core, nothing subtracted (1 tick over ${SECONDS} s = ${round(100 / CLK_TCK / SECONDS, 3)} %). The target is checked on that raw figure; netOfAnchorPct subtracts the no-probe agent's CPU. cpuPctByThread splits it by thread (main = the event loop; V8/libuv helper threads by name).`,
    `probesPerS / connectionsPerS are counted by the servers (HTTP requests answered, connections accepted; written at most every 250 ms, so up to 250 ms of counts are missing at each end of the window). The agent runs the next probe ${INTERVAL_MS} ms after the previous one settled, so ${SERVICES} services make a little under ${round((SERVICES * 1000) / INTERVAL_MS, 0)} probes/s. cpuPerProbeUs = netOfAnchorPct / probes per second.`,
    `Second anchor: two bare Node processes (${NODE}) making the same probes — HTTP and TCP, ${SERVICES} targets each, every ${INTERVAL_MS} ms after the previous probe settled, the probe code of agent/liveness/probes.ts and nothing else — against the no-probe agent's servers, in the same window. Their CPU is what Node and the kernel's loopback TCP charge for the probes alone on this machine; the agent's figure minus theirs is what the agent adds around its probes. userPct/systemPct split the CPU into user and kernel time (on loopback, connect() and write() run the peer's side of the TCP exchange in the caller's context, so part of the server's work is charged to the prober).`,
    `ratio = HTTP-probing agent CPU / bare Node HTTP prober CPU (≈ 1: the agent costs what the probes themselves cost).`,
  );
  const budget = (us) => (us > 0 ? Math.floor((TARGET_CPU_PCT / 100) * 1e6 / us) : null);
  if (!met && w.bareHttp.cpuPerProbeUs) {
    notes.push(
      `At ${w.bareHttp.cpuPerProbeUs} µs (HTTP) and ${w.bareTcp.cpuPerProbeUs} µs (TCP) of CPU per probe for bare Node on this machine, ${TARGET_CPU_PCT} % of a core pays for about ${budget(w.bareHttp.cpuPerProbeUs)} HTTP or ${budget(w.bareTcp.cpuPerProbeUs)} TCP probes per second: ${SERVICES} services fit within it with an interval of about ${round((SERVICES / budget(w.bareHttp.cpuPerProbeUs)) * 1000, -1)} ms (HTTP) or ${round((SERVICES / budget(w.bareTcp.cpuPerProbeUs)) * 1000, -1)} ms (TCP), not ${INTERVAL_MS} ms — with a fresh connection per probe, as the agent (and the bare prober) make them.`,
    );
  }
  for (const a of anomalies) notes.push(`ANOMALY: ${a}`);

  writeResult({
    name: NAME,
    figures,
    anchors: {
      noProbes: { ...w.none, what: 'the same agent with the same 20 programs and no probes' },
      bareNodeHttpProber: { ...w.bareHttp, what: 'a bare Node process making the same 20 × HTTP probes (agent/liveness/probes.ts logic, nothing else)' },
      bareNodeTcpProber: { ...w.bareTcp, what: 'a bare Node process making the same 20 × TCP connect probes' },
    },
    headline: `${SERVICES} services probed every ${INTERVAL_MS} ms: HTTP ${w.http.cpuPct} % CPU (${w.http.probesPerS} probes/s, ${figures.httpProbes.cpuPerProbeUs} µs each), TCP ${w.tcp.cpuPct} % (${w.tcp.connectionsPerS}/s, ${figures.tcpProbes.cpuPerProbeUs} µs each); no probes ${w.none.cpuPct} %; bare Node prober HTTP ${w.bareHttp.cpuPct} %, TCP ${w.bareTcp.cpuPct} %`,
    ratio: w.bareHttp.cpuPct > 0 ? round(w.http.cpuPct / w.bareHttp.cpuPct, 2) : null,
    target: `agent CPU ≤ ${TARGET_CPU_PCT} % of one core with ${SERVICES} services probed every ${INTERVAL_MS} ms (HTTP and TCP each)`,
    met,
    notes,
  });
}

runBenchmark(NAME, main);
