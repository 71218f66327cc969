// Benchmark (c): re-adoption. An agent runs 20 programs; it is SIGKILLed (its programs keep running)
// and started again with the same command; time from that start until its status shows all 20
// services running with the same pids as before. Repeated BENCH_REPS times (default 5). Checks that
// none of the 20 programs died. No anchor: supervisord cannot re-adopt; what happens to its
// programs when it is SIGKILLed is observed and written into the notes.
//
//   node test/bench/readoption.js          (BENCH_REPS=5)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  AGENT_BIN,
  ArmoryAgent,
  NODE,
  Supervisord,
  envInt,
  isAlive,
  isSameLive,
  now,
  pidsByArgv,
  procStat,
  round,
  rpc,
  sleep,
  summarize,
  writeResult,
  runBenchmark,
} from './lib.js';

const NAME = 'readoption';
const REPS = envInt('BENCH_REPS', 5, { min: 1, max: 100 });
const PROGRAMS = 20;
const TARGET_MS = 1000;
const POLL_MS = 2;
const READOPT_TIMEOUT_MS = 15_000;
const ADOPTED_REASON = 're-adopted after an agent restart';

/** Wall time of a command from spawn to exit. */
function timeRun(cmd, args) {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const c = spawn(cmd, args, { stdio: 'ignore' });
    c.once('error', reject);
    c.once('exit', () => resolve(now() - t0));
  });
}

const allReadopted = (status, pids) =>
  status.services.length === PROGRAMS && status.services.every((s) => s.state === 'running' && s.pid !== null && s.pid === pids.get(s.name));

/** True when the process ignores signal number `sig` (SigIgn of /proc/PID/status). */
function sigIgnored(pid, sig) {
  try {
    const m = /^SigIgn:\s+([0-9a-f]+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? (BigInt(`0x${m[1]}`) & (1n << BigInt(sig - 1))) !== 0n : null;
  } catch {
    return null;
  }
}

/** What supervisord does to its programs when it is SIGKILLed, and when it is started again. */
async function supervisordFacts(tracker, dir) {
  const sleeps = ['a', 'b', 'c'];
  const programs = Object.fromEntries(sleeps.map((n) => [n, { command: '/bin/sleep 100001' }]));
  // A program that writes to stdout every 200 ms, captured by supervisord (stdout_logfile=AUTO).
  programs.ticker = { command: '/bin/sh -c "while :; do echo tick; sleep 0.2; done"', stdoutLog: 'AUTO' };
  const sv = new Supervisord(tracker, dir, programs);
  await sv.start();
  const before = await sv.pids();
  const sigpipeIgnored = sigIgnored(before.a, 13); // `sleep` keeps the dispositions it inherits
  const svPid = sv.pid;
  const exited = new Promise((resolve) => sv.child.once('exit', resolve));
  process.kill(svPid, 'SIGKILL');
  await Promise.race([exited, sleep(5000)]);
  await sleep(1500);
  const survivors = Object.fromEntries(Object.entries(before).map(([n, pid]) => [n, isAlive(pid)]));
  const tickerReparented = isAlive(before.ticker) ? procStat(before.ticker)?.ppid : null;
  // Started again with the same configuration: does it take the survivors over, or start copies?
  await sv.start();
  const after = await sv.pids();
  const sleepCount = pidsByArgv(['/bin/sleep', '100001']).length;
  const fresh = Object.keys(after).filter((n) => after[n] !== before[n]);
  await sv.stop();
  return { before, survivors, tickerReparented, sigpipeIgnored, after, fresh, sleepCountAfterRestart: sleepCount };
}

async function main(tracker) {
  const dir = tracker.tmpDir('readopt');
  const notes = [];
  const anomalies = [];
  const names = Array.from({ length: PROGRAMS }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);

  // Reference points: a bare Node start, and the agent's command line start (bundle load included).
  const nodeStart = [];
  const cliStart = [];
  for (let i = 0; i < 3; i += 1) {
    nodeStart.push(await timeRun(NODE, ['-e', '']));
    cliStart.push(await timeRun(NODE, [AGENT_BIN, '--version']));
  }

  const agent = new ArmoryAgent(tracker, path.join(dir, 'armory'), Object.fromEntries(names.map((n) => [n, { command: '/bin/sleep', args: ['100000'] }])));
  // The first start (empty state directory) for comparison: spawn → all 20 running.
  const tFresh = now();
  await agent.start();
  const first = await agent.waitAllRunning(PROGRAMS);
  const freshMs = now() - tFresh;
  const pids = new Map(first.services.map((s) => [s.name, s.pid]));
  const ticks = new Map(first.services.map((s) => [s.pid, procStat(s.pid)?.startTicks]));
  console.log(`${NAME}: ${REPS} repetitions, ${PROGRAMS} programs`);

  const toAnswer = [];
  const toAll = [];
  const toCli = [];
  for (let rep = 1; rep <= REPS; rep += 1) {
    await sleep(500);
    const before = await agent.cliStatus();
    if (!allReadopted(before, pids)) throw new Error(`rep ${rep}: before the kill, status does not show the 20 services running with their pids`);
    const oldAgent = agent.pid;
    await agent.kill();
    if (isAlive(oldAgent)) throw new Error(`rep ${rep}: the agent (pid ${oldAgent}) survived SIGKILL`);
    const deadBefore = [...ticks].filter(([pid, t]) => !isSameLive(pid, t));
    if (deadBefore.length) anomalies.push(`rep ${rep}: ${deadBefore.length} programs died with the agent`);

    const t0 = agent.spawn();
    const child = agent.child;
    let answered = null;
    let done = null;
    const deadline = t0 + READOPT_TIMEOUT_MS;
    while (now() < deadline && done === null) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`rep ${rep}: the restarted agent exited; see ${agent.dir}`);
      try {
        const s = await rpc(agent.socket, 'status', undefined, 1000);
        answered ??= now();
        if (allReadopted(s, pids)) done = now();
      } catch {
        // not listening yet
      }
      if (done === null) await sleep(POLL_MS);
    }
    if (done === null) throw new Error(`rep ${rep}: the 20 services were not re-adopted within ${READOPT_TIMEOUT_MS} ms`);
    // The same, confirmed through the real command line (`status --json`), started now.
    const cli = await agent.cliStatus();
    const cliAt = now();
    if (!allReadopted(cli, pids)) anomalies.push(`rep ${rep}: status --json does not show the 20 re-adopted pids`);
    const wrongReason = cli.services.filter((s) => s.reason !== ADOPTED_REASON);
    if (wrongReason.length) anomalies.push(`rep ${rep}: ${wrongReason.length} services with reason "${wrongReason[0].reason}" instead of "${ADOPTED_REASON}"`);
    const restarted = cli.services.filter((s) => s.restarts !== 0);
    if (restarted.length) anomalies.push(`rep ${rep}: ${restarted.length} services count restarts`);
    const events = await agent.cliEvents(200);
    const startedEv = events.filter((e) => e.kind === 'agent' && /^agent started/.test(e.reason)).at(-1);
    const expect = `agent started (pid ${agent.pid}, ${PROGRAMS} services, ${PROGRAMS} re-adopted)`;
    if (startedEv?.reason !== expect) anomalies.push(`rep ${rep}: last agent event is "${startedEv?.reason}", expected "${expect}"`);
    const dead = [...ticks].filter(([pid, t]) => !isSameLive(pid, t));
    if (dead.length) anomalies.push(`rep ${rep}: ${dead.length} programs are no longer the processes started at the beginning`);

    toAnswer.push(answered - t0);
    toAll.push(done - t0);
    toCli.push(cliAt - t0);
    console.log(`  rep ${rep}/${REPS}: socket answers ${round(answered - t0, 1)} ms, all ${PROGRAMS} re-adopted ${round(done - t0, 1)} ms, confirmed by status --json ${round(cliAt - t0, 1)} ms`);
  }

  const sv = await supervisordFacts(tracker, path.join(dir, 'supervisord'));
  const sleepsSurvived = ['a', 'b', 'c'].filter((n) => sv.survivors[n]).length;
  notes.push(
    `Each repetition: status --json (the 20 pids), SIGKILL of the agent, then the same \`armory-agent run\` command again; the control socket is polled with the status RPC every ${POLL_MS} ms (the same request \`status --json\` sends) until all ${PROGRAMS} services are running with their earlier pids. Then \`status --json\` (the CLI) confirms it, the reasons ("${ADOPTED_REASON}"), restart counters (0) and the "agent started (pid N, ${PROGRAMS} services, ${PROGRAMS} re-adopted)" event are checked, and every program is checked to be the same process (pid + start time).`,
    'Figures: restartToAllReadopted = agent spawn → status shows all re-adopted (the measured value); restartToSocketAnswer = spawn → first answer on the control socket (the agent re-adopts before it listens, so the two coincide); restartToCliConfirmed adds a `status --json` run, which is itself a Node start and bundle load; freshStartToAllRunningMs is the agent’s first start on an empty state directory (one sample, polled every 20 ms), for comparison.',
    `Most of the time is the agent's own start: a bare \`node -e ""\` takes ${round(Math.min(...nodeStart), 0)} ms here and \`armory-agent --version\` (Node + loading the 1.3 MB bundle) ${round(Math.min(...cliStart), 0)} ms (fastest of 3).`,
    `No anchor: supervisord cannot re-adopt. Observed here (supervisord 4.2.5, SIGKILL, 1.5 s later): ${sleepsSurvived} of 3 idle \`sleep\` programs survived (reparented, no longer supervised); a program writing to stdout every 200 ms (captured by supervisord) ${sv.survivors.ticker ? `survived (ppid now ${sv.tickerReparented}${sv.sigpipeIgnored ? '; supervisord starts its programs with SIGPIPE ignored, so their writes to the dead pipe fail with EPIPE instead of killing them' : ''})` : 'died (its stdout pipe had no reader any more: SIGPIPE)'}. So "supervisord kills its children when it dies" is ${sleepsSurvived === 3 ? 'not true for SIGKILL: only its orderly shutdown (SIGTERM) stops them' : 'true here'}. Started again with the same configuration it ${sv.fresh.length === Object.keys(sv.before).length ? 'started a new copy of every program' : `started new copies of ${sv.fresh.join(', ') || 'none'}`}, leaving ${sv.sleepCountAfterRestart} \`sleep 100001\` processes for 3 programs (survivors run unsupervised next to the copies; for a server the copy would fail to bind its port).`,
    'ratio is null: there is no anchor to divide by.',
  );
  for (const a of anomalies) notes.push(`ANOMALY: ${a}`);

  const all = { ...summarize(toAll, 1), unit: 'ms' };
  writeResult({
    name: NAME,
    figures: {
      restartToAllReadopted: all,
      restartToSocketAnswer: { ...summarize(toAnswer, 1), unit: 'ms' },
      restartToCliConfirmed: { ...summarize(toCli, 1), unit: 'ms' },
      freshStartToAllRunningMs: round(freshMs, 1),
      nodeBareStartMs: round(Math.min(...nodeStart), 1),
      agentCliStartMs: round(Math.min(...cliStart), 1),
      programs: PROGRAMS,
      repetitions: REPS,
      programsDied: anomalies.some((a) => /died|no longer/.test(a)),
    },
    anchors: {
      supervisord: {
        canReadopt: false,
        idleChildrenSurvivedSigkill: `${sleepsSurvived}/3`,
        stdoutWritingChildSurvivedSigkill: sv.survivors.ticker,
        childrenStartWithSigpipeIgnored: sv.sigpipeIgnored,
        restartStartedCopies: sv.fresh.length,
        sleepProcessesAfterRestart: sv.sleepCountAfterRestart,
      },
    },
    headline: `restart → all ${PROGRAMS} re-adopted: median ${all.median} ms (max ${all.max}); programs died: ${anomalies.some((a) => /died|no longer/.test(a)) ? 'yes' : 'none'}`,
    ratio: null,
    target: `median restart → all ${PROGRAMS} programs re-adopted ≤ ${TARGET_MS} ms`,
    met: all.median <= TARGET_MS && anomalies.length === 0,
    notes,
  });
}

runBenchmark(NAME, main);
