// Runs the benchmarks: `npm run bench` runs all of them, `npm run bench -- NAME [NAME...]` the named
// ones (NAME = a file of test/bench/ without .js). Each runs in a process of its own, one after the
// other, builds nothing itself (the agent bundle is built first, once) and writes
// bench-results/NAME.json. Benchmarks are measurements, not assertions: the exit code is non-zero
// only when a benchmark could not run, never because a target was missed.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RESULTS_DIR, ROOT } from './lib.js';

const HERE = import.meta.dirname;
const NOT_BENCHMARKS = new Set(['run', 'lib']);
const available = fs
  .readdirSync(HERE)
  .filter((f) => f.endsWith('.js') && !f.startsWith('lib') && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .filter((n) => !NOT_BENCHMARKS.has(n))
  .sort();

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: npm run bench [-- NAME...]\nbenchmarks: ${available.join(', ')}
environment: BENCH_TRIALS (crash-restart, 30; hang-restart, 20; enrollment, 5; job-vote, 20), BENCH_SECONDS (idle-footprint, probe-cost, 60),
             BENCH_WARMUP (idle-footprint, probe-cost, 12), BENCH_ADOPTED=0 (idle-footprint: skip the re-adopted window),
             BENCH_REPS (readoption, 5), BENCH_MINUTES (campaign, 10 faults one a minute), BENCH_PORT_BASE (crash-restart 19100, hang-restart 19200, probe-cost 19300, enrollment 19400, supervision-overhead 19600),
             BENCH_ROUNDS (campaign, 5; supervision-overhead, 7), BENCH_REQUESTS (campaign, supervision-overhead: 100000),
             BENCH_NO_BUILD=1 (use dist/agent.js as it is),
             BENCH_RESULTS_DIR (default bench-results/)`);
  process.exit(0);
}
const unknown = args.filter((a) => !available.includes(a));
if (unknown.length) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (available: ${available.join(', ')})`);
  process.exit(2);
}
const selected = args.length ? args : available;

if (process.env.BENCH_NO_BUILD !== '1') {
  console.log('building dist/agent.js (node scripts/build.js)');
  execFileSync(process.execPath, ['scripts/build.js'], { cwd: ROOT, stdio: 'inherit' });
}

let current = null;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    // The benchmark cleans up on the signal itself; wait for it, then stop.
    if (current) current.kill(sig);
    else process.exit(130);
  });
}

function runOne(name) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [path.join(HERE, `${name}.js`)], { cwd: ROOT, stdio: 'inherit' });
    current = child;
    child.once('exit', (code, signal) => {
      current = null;
      resolve({ name, code, signal, seconds: Math.round((Date.now() - t0) / 100) / 10 });
    });
  });
}

const outcomes = [];
for (const name of selected) {
  console.log(`\n=== ${name} ===`);
  const o = await runOne(name);
  outcomes.push(o);
  if (o.signal === 'SIGINT' || o.signal === 'SIGTERM' || o.code === 130) break;
}

console.log('\n=== summary ===');
for (const o of outcomes) {
  const file = path.join(RESULTS_DIR, `${o.name}.json`);
  if (o.code === 130 || o.signal) {
    console.log(`${o.name}: interrupted (${o.seconds} s)`);
    continue;
  }
  if (o.code !== 0) {
    console.log(`${o.name}: FAILED to run (exit ${o.code ?? o.signal}, ${o.seconds} s)`);
    continue;
  }
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    console.log(`${o.name}: ${r.met ? 'target met' : 'target NOT met'} — ${r.headline ?? ''}; target: ${r.target}; ratio ${r.ratio} (${o.seconds} s) → ${path.relative(ROOT, file)}`);
  } catch (e) {
    console.log(`${o.name}: ran but ${path.relative(ROOT, file)} is unreadable (${e.message})`);
  }
}
process.exitCode = outcomes.some((o) => o.code !== 0) ? 1 : 0;
