// Benchmark: what supervision alone costs a service's throughput — the ARMOR papers' "level 1"
// (detection of process failures and hangs, restart), whose overhead they put at about 5 %.
//
// One redis-server (appendonly, appendfsync always, on tmpfs, as in the availability campaign) run
// by one agent with the campaign's detection settings: a TCP probe sending PING and expecting +PONG
// every 100 ms, 150 ms timeout, 2 failures. redis-benchmark (10 clients, SET and GET, 100,000
// requests each) on loopback, in rounds of two runs against the same redis:
//   supervised — the agent running;
//   bare       — the agent stopped (SIGSTOP: it neither probes nor wakes; redis is untouched).
// The order alternates between rounds; each round's supervised/bare ratio, then their median (the
// machine's speed moves between rounds here). No mirror, shim or failover group: the campaign
// benchmark measures those (data path) on top.
//
//   npm run bench -- supervision-overhead   (BENCH_ROUNDS=7, BENCH_REQUESTS=100000, BENCH_PORT_BASE=19600)
import fs from 'node:fs';
import path from 'node:path';
import { ArmoryAgent, CLK_TCK, assertPortsFree, cpuTicks, envInt, median, redisBenchmark, round, runBenchmark, sleep, waitFor, writeResult } from './lib.js';

const NAME = 'supervision-overhead';
const ROUNDS = envInt('BENCH_ROUNDS', 7, { min: 1, max: 50 });
const REQUESTS = envInt('BENCH_REQUESTS', 100_000, { min: 100, max: 10_000_000 });
const PORT = envInt('BENCH_PORT_BASE', 19600, { min: 19000, max: 19900 });
const REDIS = '/usr/bin/redis-server';
const TARGET = 0.05;
const PROBE = { tcp: `127.0.0.1:${PORT}`, send: 'PING\r\n', expect: '+PONG', interval: '100ms', timeout: '150ms', failures: 2 };

async function main(tracker) {
  if (!fs.existsSync(REDIS) || !fs.existsSync('/usr/bin/redis-benchmark')) throw new Error('redis-server and redis-benchmark (Debian redis-server, redis-tools) are needed');
  await assertPortsFree([PORT]);
  const dir = tracker.tmpDir('supervision');
  // tmpfs, as the campaign's hosts: fsync costs nothing there, so redis is bound by CPU, not the disk.
  const data = fs.mkdtempSync('/dev/shm/armory-bench-supervision-');
  tracker.onCleanup(() => fs.rmSync(data, { recursive: true, force: true }));
  const args = ['--port', String(PORT), '--bind', '127.0.0.1', '--protected-mode', 'no', '--dir', data, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no'];
  const agent = new ArmoryAgent(tracker, path.join(dir, 'agent'), { redis: { command: REDIS, args, probes: [PROBE], stop: { grace: '1s' } } });
  await agent.start();
  const ready = await waitFor('redis ready', async () => (await agent.status()).services.find((s) => s.name === 'redis' && s.state === 'running' && s.ready), { timeoutMs: 30_000, everyMs: 50 });
  const redisPid = ready.pid;
  const agentPid = agent.pid;
  console.log(`${NAME}: redis pid ${redisPid} supervised by agent pid ${agentPid}; probe ${JSON.stringify(PROBE)}; ${ROUNDS} rounds of ${REQUESTS} SET + ${REQUESTS} GET`);
  const ms = (ticks) => (ticks * 1000) / CLK_TCK;
  const rounds = [];
  let stopped = false;
  const resume = () => {
    if (stopped) process.kill(agentPid, 'SIGCONT');
    stopped = false;
  };
  tracker.onCleanup(resume);
  const startedAt = new Date().toISOString();
  try {
    // A warm-up run: redis's first run after a start is slower (its AOF and hash tables grow).
    await redisBenchmark({ host: '127.0.0.1', port: PORT, requests: Math.min(REQUESTS, 20_000) });
    for (let r = 0; r < ROUNDS; r += 1) {
      const order = r % 2 === 0 ? ['bare', 'supervised'] : ['supervised', 'bare'];
      const round_ = { round: r + 1 };
      for (const k of order) {
        if (k === 'bare') {
          process.kill(agentPid, 'SIGSTOP');
          stopped = true;
        }
        await sleep(300);
        const before = { agent: cpuTicks(agentPid), redis: cpuTicks(redisPid) };
        const rps = await redisBenchmark({ host: '127.0.0.1', port: PORT, requests: REQUESTS });
        const per1k = (t) => round(ms(t) / ((2 * REQUESTS) / 1000), 2);
        round_[k] = { set: rps.set, get: rps.get, agentCpuMsPer1k: per1k(cpuTicks(agentPid) - before.agent), redisCpuMsPer1k: per1k(cpuTicks(redisPid) - before.redis) };
        resume();
      }
      round_.overhead = round(1 - (round_.supervised.set + round_.supervised.get) / (round_.bare.set + round_.bare.get), 4);
      rounds.push(round_);
      console.log(`round ${r + 1}/${ROUNDS}: bare SET ${round_.bare.set}/s GET ${round_.bare.get}/s; supervised SET ${round_.supervised.set}/s GET ${round_.supervised.get}/s (agent ${round_.supervised.agentCpuMsPer1k} ms CPU per 1,000 requests, redis ${round_.supervised.redisCpuMsPer1k} ms): overhead ${round(round_.overhead * 100, 1)} %`);
    }
  } finally {
    resume();
  }
  await sleep(500);
  const anomalies = [];
  const s = (await agent.status()).services.find((x) => x.name === 'redis');
  if (!s || s.pid !== redisPid || s.restarts !== 0) anomalies.push(`redis was restarted during the runs (pid ${redisPid} → ${s?.pid}, restarts ${s?.restarts})`);
  const failing = (await agent.cliEvents(1000)).filter((e) => e.kind === 'liveness' && e.time >= startedAt);
  if (failing.length) anomalies.push(`${failing.length} liveness events during the runs (a probe cut off by the SIGSTOP of the agent counts here), e.g. "${failing[0].reason}"`);

  const overhead = round(median(rounds.map((x) => x.overhead)), 4);
  const med = (k, f) => median(rounds.map((x) => x[k][f]));
  const figures = {
    overhead,
    overheadRounds: rounds.map((x) => x.overhead),
    supervised: { setPerS: med('supervised', 'set'), getPerS: med('supervised', 'get'), agentCpuMsPer1k: med('supervised', 'agentCpuMsPer1k'), redisCpuMsPer1k: med('supervised', 'redisCpuMsPer1k') },
    probe: PROBE,
    requests: REQUESTS,
    rounds,
  };
  const bare = { setPerS: med('bare', 'set'), getPerS: med('bare', 'get'), redisCpuMsPer1k: med('bare', 'redisCpuMsPer1k'), what: 'the same redis with its agent stopped (SIGSTOP)' };
  writeResult({
    name: NAME,
    figures,
    anchors: { bare, 'seed 000 (ARMOR level 1)': { overhead: 'about 5 %' } },
    headline: `supervision (probe PING every 100 ms) costs redis ${round(overhead * 100, 1)} % of its throughput (median of ${ROUNDS} paired rounds: ${rounds.map((x) => `${round(x.overhead * 100, 1)}`).join(', ')} %); the agent spends ${figures.supervised.agentCpuMsPer1k} ms of CPU per 1,000 requests, redis ${figures.supervised.redisCpuMsPer1k} ms`,
    ratio: overhead,
    target: `throughput overhead of supervision ≤ ${TARGET * 100} % (ratio: 1 − supervised / bare, median of paired rounds)`,
    met: overhead <= TARGET && anomalies.length === 0,
    notes: [
      'The same redis process in both runs of a round; in the bare run its agent is stopped with SIGSTOP (it takes no CPU and wakes for nothing), in the supervised run it probes redis every 100 ms as configured. A negative overhead: the supervised run was the faster one (noise).',
      'redis-benchmark and redis share the machine\'s cores with the agent; CPU per 1,000 requests is (utime + stime) over the run / (SET + GET requests) × 1,000.',
      ...anomalies.map((a) => `ANOMALY: ${a}`),
    ],
  });
}

runBenchmark(NAME, main);
