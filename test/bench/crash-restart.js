// Benchmark (a): SIGKILL of a TCP server → time until a new process accepts a TCP connection again.
// Subjects, run side by side and interleaved trial by trial: the Armory agent, a bare Node respawn
// loop (the anchor the target is relative to) and supervisord. systemd is measured when it is PID 1.
//
//   node test/bench/crash-restart.js        (BENCH_TRIALS=30, BENCH_PORT_BASE=19100)
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import {
  ArmoryAgent,
  NODE,
  SERVER_JS,
  Supervisord,
  assertPortsFree,
  envInt,
  isAlive,
  now,
  pollConnect,
  round,
  sleep,
  summarize,
  tryConnect,
  waitDeadSync,
  writeResult,
  runBenchmark,
} from './lib.js';

const NAME = 'crash-restart';
const TRIALS = envInt('BENCH_TRIALS', 30, { min: 1, max: 1000 });
const PORT_BASE = envInt('BENCH_PORT_BASE', 19100, { min: 19000, max: 19990 });
const SETTLE_MS = 300; // each server runs at least this long before it is killed (> stableAfter 100ms)
const TRIAL_TIMEOUT_MS = 15_000;

const LOOP_JS = `'use strict';
// The anchor: spawn the server, respawn it the moment it exits.
const { spawn } = require('node:child_process');
const [server, port] = process.argv.slice(2);
let child = null;
let stopping = false;
function start() {
  child = spawn(process.execPath, [server, port], { stdio: 'ignore' });
  child.on('exit', () => { if (!stopping) start(); });
}
start();
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { stopping = true; if (child) child.kill('SIGKILL'); process.exit(0); });
`;

function systemdInfo() {
  let comm = '?';
  try {
    comm = fs.readFileSync('/proc/1/comm', 'utf8').trim();
  } catch {
    // unreadable
  }
  return { available: comm === 'systemd', pid1: comm };
}

async function main(tracker) {
  const dir = tracker.tmpDir('crash');
  const serverJs = path.join(dir, 'server.cjs');
  const loopJs = path.join(dir, 'loop.cjs');
  fs.writeFileSync(serverJs, SERVER_JS);
  fs.writeFileSync(loopJs, LOOP_JS);
  const ports = { armory: PORT_BASE + 1, bare: PORT_BASE + 2, supervisord: PORT_BASE + 3 };
  await assertPortsFree(Object.values(ports));
  const notes = [];
  const anomalies = [];

  // --- Armory
  const restartCfg = { policy: 'always', stableAfter: '100ms', minInterval: '0ms', budget: { restarts: 10_000, window: '1m' } };
  const agent = new ArmoryAgent(tracker, path.join(dir, 'armory'), {
    server: { command: NODE, args: [serverJs, String(ports.armory)], restart: restartCfg },
  });

  // --- bare respawn loop
  const loop = spawn(NODE, [loopJs, serverJs, String(ports.bare)], { stdio: 'ignore', detached: true });
  loop.on('error', () => undefined);
  tracker.track(loop.pid);
  tracker.onCleanup(async () => {
    if (loop.exitCode === null && loop.signalCode === null) {
      const exited = new Promise((resolve) => loop.once('exit', resolve));
      loop.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
    }
  });

  // --- supervisord
  const sv = new Supervisord(tracker, path.join(dir, 'supervisord'), { server: { command: `${NODE} ${serverJs} ${ports.supervisord}` } });

  await agent.start();
  await sv.start();
  for (const p of Object.values(ports)) await pollConnect(p, { everyMs: 20, timeoutMs: 20_000 });

  const subjects = [
    {
      name: 'armory',
      port: ports.armory,
      // "kill the pid from status": the real command line, untimed.
      pid: async () => (await agent.cliStatus()).services.find((s) => s.name === 'server')?.pid ?? null,
      group: true,
      samples: [],
      kills: [],
    },
    { name: 'bare-node-respawn-loop', port: ports.bare, pid: async () => (await tryConnect(ports.bare)).pid, group: false, samples: [] },
    { name: 'supervisord', port: ports.supervisord, pid: () => sv.pidOf('server'), group: true, samples: [] },
  ];

  console.log(`${NAME}: ${TRIALS} trials each for ${subjects.map((s) => s.name).join(', ')} (interleaved)`);
  for (let i = 0; i < TRIALS; i += 1) {
    for (let k = 0; k < subjects.length; k += 1) {
      const sub = subjects[(i + k) % subjects.length];
      await sleep(SETTLE_MS);
      const pid = await sub.pid();
      if (!pid) throw new Error(`${sub.name}: no server pid before trial ${i + 1}`);
      const greet = await tryConnect(sub.port);
      if (greet.pid !== pid) anomalies.push(`${sub.name} trial ${i + 1}: the pid from its status (${pid}) is not the pid serving port ${sub.port} (${greet.pid})`);
      tracker.track(pid, { group: sub.group });
      const t0 = now();
      const wall = Date.now();
      process.kill(pid, 'SIGKILL');
      if (!waitDeadSync(pid, 2000)) throw new Error(`${sub.name}: pid ${pid} still alive 2 s after SIGKILL`);
      const r = await pollConnect(sub.port, { notPid: pid, everyMs: 1, timeoutMs: TRIAL_TIMEOUT_MS });
      tracker.track(r.pid, { group: sub.group });
      sub.samples.push(r.at - t0);
      sub.kills?.push({ wall, oldPid: pid, newPid: r.pid });
    }
    process.stdout.write(`  trial ${i + 1}/${TRIALS}: ${subjects.map((s) => `${s.name} ${round(s.samples.at(-1), 1)} ms`).join(', ')}\n`);
  }

  // The agent's own account of the trials.
  const st = (await agent.cliStatus()).services.find((s) => s.name === 'server');
  if (st.state !== 'running') anomalies.push(`armory: service state after the trials is ${st.state} (${st.reason})`);
  if (st.restarts !== TRIALS) anomalies.push(`armory: status counts ${st.restarts} restarts after ${TRIALS} kills`);
  const events = await agent.cliEvents(10 * TRIALS + 50);
  const backoffs = events.filter((e) => e.kind === 'transition' && e.service === 'server' && e.to === 'backing-off');
  if (backoffs.length) anomalies.push(`armory: ${backoffs.length} restarts went through backing-off (e.g. "${backoffs[0].reason}")`);
  if (!isAlive(agent.pid)) anomalies.push('armory: the agent died during the trials');
  // Where the agent's share goes: kill → the agent's "crashed, restarting" transition (event time,
  // 1 ms resolution) and kill → the new pid in the transition to running.
  const noticed = [];
  const spawned = [];
  const exits = events.filter((e) => e.service === 'server' && e.kind === 'transition' && e.detail?.event === 'exited').sort((a, b) => a.seq - b.seq);
  if (exits.length !== TRIALS) anomalies.push(`armory: ${exits.length} exit transitions in the event log for ${TRIALS} kills`);
  subjects[0].kills.forEach((k, i) => {
    const up = events.find((e) => e.service === 'server' && e.kind === 'transition' && e.to === 'running' && e.detail?.pid === k.newPid);
    if (exits.length === TRIALS) noticed.push(Date.parse(exits[i].time) - k.wall);
    if (up) spawned.push(Date.parse(up.time) - k.wall);
  });
  const [armory, bare, supervisord] = subjects.map((s) => ({ ...summarize(s.samples), unit: 'ms', samples: s.samples.map((x) => round(x, 2)) }));
  const breakdown = {
    killToExitEvent: { ...summarize(noticed, 0), unit: 'ms (event log, 1 ms resolution)' },
    killToSpawnedEvent: { ...summarize(spawned, 0), unit: 'ms (event log, 1 ms resolution)' },
  };
  const ratio = round(armory.median / bare.median, 3);
  const sd = systemdInfo();
  notes.push(
    'Each trial: SIGKILL of the server pid (Armory: the pid from `armory-agent status --json`; supervisord: `supervisorctl pid`; bare loop: the pid the server greets with), a tight /proc wait until the pid is gone, then a TCP connect to 127.0.0.1 every 1 ms until a process other than the killed one accepts and greets with its pid. Time = kill → accepted connect.',
    `Subjects run side by side on ports ${ports.armory}/${ports.bare}/${ports.supervisord}; trials interleaved round-robin (rotating order), ${SETTLE_MS} ms settle before each kill.`,
    'Armory service restart policy: { policy: always, stableAfter: 100ms, minInterval: 0ms, budget: { restarts: 10000, window: 1m } }. With stableAfter 100ms every kill (after ≥ 300 ms of running) is "the first crash after a stable run", which the policy restarts immediately; minInterval 0ms removes the 100 ms floor between starts, and the budget is raised because the default (5 restarts per minute) would give up after the 5th trial. This measures the restart path itself, not the backoff.',
    'supervisord 4.2.5: autorestart=true, startsecs=0, stdout/stderr_logfile=NONE, run with -n as a child of the benchmark.',
    sd.available
      ? 'systemd is PID 1 here but no systemd anchor is implemented yet.'
      : `systemd anchor (Restart=always) not measured: systemd is not PID 1 on this machine (PID 1 is "${sd.pid1}"), so there is no systemd manager to run a unit.`,
    `Most of every figure is the start of a new Node process (the bare loop, which does nothing else, has a median of ${bare.median} ms here), which is why the ratio to the bare loop is the meaningful number. armoryBreakdown times come from the agent's event log: kill → its exit transition, kill → its transition to running with the new pid.`,
  );
  if (supervisord.median > 3 * bare.median) {
    notes.push(`supervisord took ${round(supervisord.median - bare.median, 0)} ms longer than the bare loop (median): it notices exits and restarts programs from its main loop, which polls with a 1 s timeout.`);
  }
  for (const a of anomalies) notes.push(`ANOMALY: ${a}`);

  writeResult({
    name: NAME,
    figures: { armory, armoryBreakdown: breakdown, trials: TRIALS },
    anchors: {
      'bare-node-respawn-loop': bare,
      supervisord,
      systemd: { measured: false, ...sd },
    },
    headline: `crash → accepting again: armory median ${armory.median} ms (p95 ${armory.p95}), bare loop ${bare.median} ms, supervisord ${supervisord.median} ms`,
    ratio,
    target: 'armory median ≤ 1.2 × bare Node respawn loop median',
    met: ratio <= 1.2,
    notes,
  });
}

runBenchmark(NAME, main);
