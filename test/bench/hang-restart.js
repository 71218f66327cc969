// Benchmark: hang → detection → restart. A program that is alive but stuck (SIGSTOP) must be seen
// as hung within its configured timeout and replaced by a new process. Two ways of seeing it, two
// services of one agent, trials interleaved:
//   (a) watchdog: a Python program speaking the systemd notify protocol (READY=1, then WATCHDOG=1
//       every 50 ms), `notify: true`, `watchdog: 500ms`;
//   (b) probe: a Python HTTP server, `probes: [{ http: …/health, interval: 100ms, timeout: 100ms,
//       failures: 3 }]`.
// Each trial SIGSTOPs the program (t0) and waits until a new process runs and is ready. The times
// come from the agent's event journal (the "hang detected" liveness event, the transition to running
// with the new pid) and from the programs' own logs (the last WATCHDOG=1 sent, the last probe
// answered before the SIGSTOP), all on the machine's wall clock, so no CLI polling is in them.
//
//   node test/bench/hang-restart.js        (BENCH_TRIALS=20 per case, BENCH_PORT_BASE=19200)
import fs from 'node:fs';
import path from 'node:path';
import {
  ArmoryAgent,
  PYTHON,
  PY_HTTPD,
  assertPortsFree,
  envInt,
  isAlive,
  procStat,
  round,
  sleep,
  summarize,
  waitDead,
  waitFor,
  wallNow,
  writeResult,
  runBenchmark,
} from './lib.js';

const NAME = 'hang-restart';
const TRIALS = envInt('BENCH_TRIALS', 20, { min: 1, max: 500 });
const PORT_BASE = envInt('BENCH_PORT_BASE', 19200, { min: 19000, max: 19990 });
const SETTLE_MS = 800; // each program runs (and pings / answers probes) at least this long before it is stopped
const TRIAL_TIMEOUT_MS = 10_000;
const TARGET_EXCESS_MS = 50;
const LIFETIME_S = 3600; // the Python programs end by themselves after this, should anything leak

const WATCHDOG_MS = 500;
const PING_MS = 50;
const PROBE = { interval: 100, timeout: 100, failures: 3 };
// The probe's deadline, counted from the last probe the server answered: the next probe starts one
// interval later, and each of `failures` probes in a row fails after `timeout` and waits `interval`
// before the next one: interval + failures × timeout + (failures − 1) × interval.
const PROBE_BOUND_MS = PROBE.failures * (PROBE.interval + PROBE.timeout);

/** The watchdog program: READY=1, then WATCHDOG=1 every INTERVAL s; each ping's send time to LOG. */
const PY_WATCHDOG = `import os, signal, socket, sys, time
interval, log, lifetime = float(sys.argv[1]), sys.argv[2], float(sys.argv[3])
pid = os.getpid()
fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
sent = None
logged = None
def on_term(signum, frame):
    # A ping sent just before the SIGSTOP but not yet logged: write it now (SIGCONT + SIGTERM).
    if sent is not None and sent != logged:
        os.write(fd, b'%d %.6f\\n' % (pid, sent))
    os._exit(0)
signal.signal(signal.SIGTERM, on_term)
addr = os.environ['NOTIFY_SOCKET']
if addr.startswith('@'):
    addr = '\\0' + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(addr)
s.send(b'READY=1')
end = time.time() + lifetime
while time.time() < end:
    t = time.time()
    s.send(b'WATCHDOG=1')
    sent = t
    os.write(fd, b'%d %.6f\\n' % (pid, t))
    logged = t
    time.sleep(interval)
`;

/** { pid: [unix ms, …] } from a "PID UNIXTIME" log. */
function readTimes(file) {
  const out = new Map();
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const [p, t] = line.trim().split(' ');
    if (!p || !t) continue;
    const pid = Number(p);
    if (!out.has(pid)) out.set(pid, []);
    out.get(pid).push(Number(t) * 1000);
  }
  return out;
}

function systemdInfo() {
  let comm = '?';
  try {
    comm = fs.readFileSync('/proc/1/comm', 'utf8').trim();
  } catch {
    // unreadable
  }
  return { available: comm === 'systemd', pid1: comm };
}

const stats = (values, unit = 'ms') => ({ ...summarize(values, 1), unit, samples: values.map((x) => round(x, 1)) });

async function main(tracker) {
  if (!PYTHON) throw new Error('python3 is needed for the test programs and was not found');
  const dir = tracker.tmpDir('hang');
  const wdPy = path.join(dir, 'watchdog.py');
  const httpdPy = path.join(dir, 'httpd.py');
  const pingLog = path.join(dir, 'pings.log');
  const answerLog = path.join(dir, 'answers.log');
  fs.writeFileSync(wdPy, PY_WATCHDOG);
  fs.writeFileSync(httpdPy, PY_HTTPD);
  const port = PORT_BASE + 1;
  await assertPortsFree([port]);
  const notes = [];
  const anomalies = [];

  const restart = { policy: 'always', stableAfter: '100ms', minInterval: '0ms', budget: { restarts: 10_000, window: '1m' } };
  const probe = { http: `http://127.0.0.1:${port}/health`, interval: `${PROBE.interval}ms`, timeout: `${PROBE.timeout}ms`, failures: PROBE.failures };
  const agent = new ArmoryAgent(tracker, path.join(dir, 'armory'), {
    wd: { command: PYTHON, args: ['-S', wdPy, String(PING_MS / 1000), pingLog, String(LIFETIME_S)], notify: true, watchdog: `${WATCHDOG_MS}ms`, restart },
    web: { command: PYTHON, args: ['-S', httpdPy, String(port), answerLog, '-', String(LIFETIME_S)], probes: [probe], restart },
  });
  await agent.start();
  await waitFor('both services running and ready', async () => {
    const s = await agent.status();
    return s.services.length === 2 && s.services.every((x) => x.state === 'running' && x.ready && x.pid);
  }, { timeoutMs: 20_000, everyMs: 25 });

  const cases = [
    { service: 'wd', trials: [] },
    { service: 'web', trials: [] },
  ];
  console.log(`${NAME}: ${TRIALS} SIGSTOP trials each for the watchdog (${WATCHDOG_MS} ms, pings every ${PING_MS} ms) and the HTTP probe (interval ${PROBE.interval} ms, timeout ${PROBE.timeout} ms, failures ${PROBE.failures}); interleaved`);
  for (let i = 0; i < TRIALS; i += 1) {
    for (let k = 0; k < cases.length; k += 1) {
      const c = cases[(i + k) % cases.length];
      await sleep(SETTLE_MS);
      // "the pid from status": the real command line, untimed, then a short pause so that its
      // start (a Node process on a 2-core machine) is over before the hang begins.
      const st = (await agent.cliStatus()).services.find((s) => s.name === c.service);
      if (!st || st.state !== 'running' || !st.ready || !st.pid) throw new Error(`${c.service}: not running and ready before trial ${i + 1} (${JSON.stringify(st)})`);
      await sleep(150);
      const pid = st.pid;
      tracker.track(pid, { group: true });
      const t0 = wallNow();
      process.kill(pid, 'SIGSTOP');
      // The signal takes effect asynchronously: a bounded wait until /proc shows it stopped (T).
      let stopped = procStat(pid)?.state;
      for (let n = 0; n < 5000 && stopped !== undefined && stopped !== 'T'; n += 1) stopped = procStat(pid)?.state;
      const r = await waitFor(`${c.service}: a new process running and ready after the SIGSTOP of ${pid}`, async () => {
        const s = (await agent.status()).services.find((x) => x.name === c.service);
        return s && s.pid && s.pid !== pid && s.state === 'running' && s.ready ? s : undefined;
      }, { timeoutMs: TRIAL_TIMEOUT_MS, everyMs: 20 });
      const polledMs = wallNow() - t0;
      if (!(await waitDead(pid, 5000))) anomalies.push(`${c.service} trial ${i + 1}: the stopped pid ${pid} is still alive after its replacement ${r.pid} is ready`);
      c.trials.push({ t0, oldPid: pid, newPid: r.pid, polledMs, stopped });
    }
    const last = (c) => c.trials.at(-1);
    process.stdout.write(`  trial ${i + 1}/${TRIALS}: ${cases.map((c) => `${c.service} ${last(c).oldPid}→${last(c).newPid} ready after ≤ ${round(last(c).polledMs, 0)} ms`).join(', ')}\n`);
  }

  // --- the agent's account, and the programs' own logs
  const events = await agent.cliEvents(100_000);
  const pings = readTimes(pingLog);
  const answers = readTimes(answerLog);
  const evTime = (e) => Date.parse(e.time);
  const find = (pred) => events.find(pred);
  const results = {};
  for (const c of cases) {
    const out = { detection: [], sinceLastOk: [], excess: [], agentExcess: [], recovery: [], restartAfterDeadline: [], hangToExit: [], exitToReady: [], reasons: [] };
    for (const [n, t] of c.trials.entries()) {
      const label = `${c.service} trial ${n + 1}`;
      if (t.stopped !== 'T') anomalies.push(`${label}: /proc state of ${t.oldPid} right after SIGSTOP was ${t.stopped}, not T`);
      const hang = find((e) => e.kind === 'liveness' && e.service === c.service && /^hang detected/.test(e.reason) && e.detail?.pid === t.oldPid);
      const up = find((e) => e.kind === 'transition' && e.service === c.service && e.to === 'running' && e.detail?.pid === t.newPid);
      // The exit of the stopped program: the first exit transition after the hang event. (Its
      // detail names no pid, and the spawn itself is no transition: starting → starting.)
      const exit = hang && find((e) => e.kind === 'transition' && e.service === c.service && e.detail?.event === 'exited' && e.seq > hang.seq);
      if (!hang || !up) {
        anomalies.push(`${label}: ${!hang ? 'no "hang detected" event' : 'no transition to running'} for pid ${t.oldPid} → ${t.newPid} in the event journal`);
        continue;
      }
      const okTimes = (c.service === 'wd' ? pings : answers).get(t.oldPid) ?? [];
      const lastOk = Math.max(...okTimes.filter((x) => x <= t.t0));
      const limit = c.service === 'wd' ? WATCHDOG_MS : PROBE_BOUND_MS;
      out.detection.push(evTime(hang) - t.t0);
      out.recovery.push(evTime(up) - t.t0);
      if (Number.isFinite(lastOk)) {
        out.sinceLastOk.push(evTime(hang) - lastOk);
        out.excess.push(evTime(hang) - lastOk - limit);
        out.restartAfterDeadline.push(evTime(up) - lastOk - limit);
      } else {
        anomalies.push(`${label}: no ${c.service === 'wd' ? 'WATCHDOG=1' : 'answered probe'} of pid ${t.oldPid} logged before the SIGSTOP`);
      }
      const m = /no WATCHDOG=1 for (\d+)ms/.exec(hang.reason);
      if (m) out.agentExcess.push(Number(m[1]) - WATCHDOG_MS);
      if (exit && exit.seq < up.seq) {
        out.hangToExit.push(evTime(exit) - evTime(hang));
        out.exitToReady.push(evTime(up) - evTime(exit));
      }
      if (out.reasons.length < 2) out.reasons.push(hang.reason);
      const detected = evTime(hang) - t.t0;
      if (c.service === 'wd' && (detected < WATCHDOG_MS - PING_MS - 5 || detected > WATCHDOG_MS + TARGET_EXCESS_MS)) {
        anomalies.push(`${label}: detected ${round(detected, 1)} ms after the SIGSTOP, outside ${WATCHDOG_MS - PING_MS}–${WATCHDOG_MS} ms (+${TARGET_EXCESS_MS})`);
      }
    }
    results[c.service] = out;
  }

  const wd = results.wd;
  const web = results.web;
  const figures = {
    watchdog: {
      config: { watchdogMs: WATCHDOG_MS, pingEveryMs: PING_MS },
      detectionAfterSigstop: stats(wd.detection),
      detectionAfterLastPing: stats(wd.sinceLastOk),
      excessOverWatchdog: stats(wd.excess),
      agentReportedExcess: stats(wd.agentExcess, 'ms (the agent\'s own "no WATCHDOG=1 for N ms" − watchdog)'),
      readyAgainAfterSigstop: stats(wd.recovery),
      readyAgainAfterDeadline: stats(wd.restartAfterDeadline, 'ms (new process ready − (last ping + watchdog))'),
      breakdown: {
        hangToExit: stats(wd.hangToExit, 'ms (event journal, 1 ms resolution: SIGCONT + SIGTERM → exit noticed)'),
        exitToReady: stats(wd.exitToReady, 'ms (event journal: spawn of the new process → READY=1)'),
      },
      exampleReason: wd.reasons[0] ?? null,
    },
    httpProbe: {
      config: { ...PROBE, boundMs: PROBE_BOUND_MS },
      detectionAfterSigstop: stats(web.detection),
      detectionAfterLastAnswer: stats(web.sinceLastOk),
      excessOverBound: stats(web.excess),
      readyAgainAfterSigstop: stats(web.recovery),
      readyAgainAfterDeadline: stats(web.restartAfterDeadline, 'ms (new process ready − (last answer + bound))'),
      breakdown: {
        hangToExit: stats(web.hangToExit, 'ms (event journal, 1 ms resolution: SIGCONT + SIGTERM → exit noticed)'),
        exitToReady: stats(web.exitToReady, 'ms (event journal: spawn of the new process → first passing probe)'),
      },
      exampleReason: web.reasons[0] ?? null,
    },
    trials: TRIALS,
  };
  const over = (xs) => xs.filter((x) => x > TARGET_EXCESS_MS).length;
  const wdEx = figures.watchdog.excessOverWatchdog;
  const webEx = figures.httpProbe.excessOverBound;
  const complete = wd.excess.length === TRIALS && web.excess.length === TRIALS;
  const met = complete && wdEx.p95 !== null && webEx.p95 !== null && wdEx.p95 <= TARGET_EXCESS_MS && webEx.p95 <= TARGET_EXCESS_MS;
  const sd = systemdInfo();

  notes.push(
    `Each trial: the pid from \`armory-agent status --json\` (untimed, 150 ms pause after it), SIGSTOP of that pid (t0, wall clock with sub-ms resolution), then the status RPC every 20 ms until a new pid is running and ready (only to know when the trial is over: the figures come from the event journal). ${SETTLE_MS} ms settle before each trial; the two services belong to one agent and their trials are interleaved. Restart policy as in crash-restart: { always, stableAfter 100ms, minInterval 0ms, budget 10000/1m }, so each restart is immediate and the figures show detection and the restart path, not the backoff.`,
    `(a) watchdog: a Python program (${PYTHON} -S, one process) sends READY=1, then WATCHDOG=1 every ${PING_MS} ms over NOTIFY_SOCKET and appends each ping's send time (time.time()) to a file of its own (not through the agent's log capture, which would add work to the agent and stamp lines with the agent's read time, not the send time). A ping sent just before the SIGSTOP but not yet logged is written by its SIGTERM handler when the agent resumes and stops it. excessOverWatchdog = "hang detected" event time − last ping sent before t0 − ${WATCHDOG_MS} ms: the lateness of the agent's watchdog timer plus the datagram's way to the agent (poll thread → main thread). agentReportedExcess is the same lateness as the agent itself measures it (from its receipt of the last ping; the number in the event's reason). detectionAfterSigstop is expected between ${WATCHDOG_MS - PING_MS} and ${WATCHDOG_MS} ms (+ lateness): the SIGSTOP falls anywhere within a ${PING_MS} ms ping interval.`,
    `(b) HTTP probe: a Python HTTP server (one process, one thread, a raw socket loop answering 200 "ok") appends the time of each answered request to a file. A SIGSTOPped server still completes TCP handshakes (the kernel's listen backlog), so each probe connects, sends its GET and times out after ${PROBE.timeout} ms. The agent runs the next probe ${PROBE.interval} ms after the previous one settled, so from the last answered probe the hang is declared at most interval + ${PROBE.failures} × timeout + ${PROBE.failures - 1} × interval = failures × (interval + timeout) = ${PROBE_BOUND_MS} ms later (plus the ~1 ms a healthy probe takes); counted from the SIGSTOP, detection lies between ${PROBE.failures * PROBE.timeout + (PROBE.failures - 1) * PROBE.interval} and ${PROBE_BOUND_MS} ms. excessOverBound = "hang detected" − last answered request − ${PROBE_BOUND_MS} ms (negative: earlier than the bound). A TCP probe would not see this hang at all until the backlog (128) filled.`,
    'readyAgain… = the transition to running with the new pid (READY=1 received, resp. the first passing probe). readyAgainAfterDeadline is DESIGN\'s "hang → restart: watchdog timeout + ≤ 50 ms" taken literally (new process ready − the moment the timeout ran out); the target here is on detection, as the brief for this benchmark asks.',
    'Event times are ISO strings with 1 ms resolution (truncated), so every journal-based figure carries up to 1 ms of rounding; the programs\' log times are microseconds from time.time(); all are the same machine clock.',
    sd.available
      ? 'systemd is PID 1 here but no systemd WatchdogSec anchor is implemented yet.'
      : `Anchor not measured: systemd WatchdogSec needs a systemd manager, and systemd is not PID 1 on this machine (PID 1 is "${sd.pid1}"). For reference, systemd checks the watchdog with a timer event at the WatchdogSec deadline; there is no figure from this machine to compare with.`,
  );
  const wdSpawnMs = figures.watchdog.breakdown.exitToReady.median;
  const webSpawnMs = figures.httpProbe.breakdown.exitToReady.median;
  if (webSpawnMs !== null && wdSpawnMs !== null && webSpawnMs > wdSpawnMs + PROBE.interval / 2) {
    notes.push(
      `The probed service needs ${round(webSpawnMs - wdSpawnMs, 0)} ms longer than the notify one from spawn to ready (median ${webSpawnMs} vs ${wdSpawnMs} ms): the agent runs the first probe at the moment of the spawn, before the new program can listen, and after that failure waits a whole interval (${PROBE.interval} ms) for the next probe.`,
    );
  }
  if (over(wd.excess) || over(web.excess)) notes.push(`Trials over ${TARGET_EXCESS_MS} ms of excess: watchdog ${over(wd.excess)}/${wd.excess.length}, probe ${over(web.excess)}/${web.excess.length}.`);
  for (const a of anomalies) notes.push(`ANOMALY: ${a}`);
  if (!isAlive(agent.pid)) notes.push('ANOMALY: the agent died during the trials');

  writeResult({
    name: NAME,
    figures,
    anchors: { systemdWatchdogSec: { measured: false, ...sd } },
    headline: `hang detected: watchdog ${WATCHDOG_MS} ms → median ${figures.watchdog.detectionAfterLastPing.median} ms after the last ping (excess p95 ${wdEx.p95} ms), ready again ${figures.watchdog.readyAgainAfterSigstop.median} ms after SIGSTOP; HTTP probe (bound ${PROBE_BOUND_MS} ms) → median ${figures.httpProbe.detectionAfterLastAnswer.median} ms after the last answer (excess p95 ${webEx.p95} ms), ready again ${figures.httpProbe.readyAgainAfterSigstop.median} ms after SIGSTOP`,
    ratio: figures.watchdog.detectionAfterLastPing.median === null ? null : round(figures.watchdog.detectionAfterLastPing.median / WATCHDOG_MS, 3),
    target: `p95 of detection − configured timeout ≤ ${TARGET_EXCESS_MS} ms (watchdog: from the last WATCHDOG=1 sent; probe: from the last answered probe, timeout = failures × (interval + timeout)); ratio = watchdog median detection after the last ping / watchdog`,
    met,
    notes,
  });
}

runBenchmark(NAME, main);
