// Benchmark: node failure → the virtual IP answers from the standby, as a client sees it. Test hosts
// in network namespaces on one bridge (two members and a witness) and a client host that sends an
// HTTP request to the VIP every 10 ms (50 ms timeout). Each trial takes the link of the host that
// holds the VIP down (t0) and measures until the first successful reply from another program
// (the standby's). Then the link comes back and the group settles before the next trial.
//   (a) Armory at its defaults (heartbeat 100 ms, failAfter 300 ms), the service started on takeover;
//   (b) keepalived (Debian package) at its defaults (VRRPv2, advert_int 1 s), the service running on
//       both hosts all the time;
//   (c) keepalived at Armory's heartbeat interval (VRRPv3, advert_int 0.1 s).
// A 10 ms sampler records which hosts hold the VIP; samples with two holders are counted per case
// (keepalived has no quorum: a cut-off master keeps the address).
//
//   node test/bench/failover.js        (BENCH_TRIALS=10 per case)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { importTs } from './_import-ts.js';
import { ROOT, envInt, now, runBenchmark, sleep, summarize, waitFor, writeResult } from './lib.js';

const NAME = 'failover';
const TRIALS = envInt('BENCH_TRIALS', 10, { min: 1, max: 200 });
const TARGET_MS = 500;
const TRIAL_TIMEOUT_MS = 20_000;

/**
 * The service: socat answering HTTP with "ok <its pid>" (it starts in milliseconds, so the outage
 * measures failover rather than a runtime's boot; the same program for every case).
 */
const SERVICE_SCRIPT = 'f="$0/ok.$$"; printf \'HTTP/1.0 200 OK\\r\\n\\r\\nok %s\\n\' $$ > "$f"; exec socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:cat\\ "$f"';
const serviceArgs = (dir) => ['-c', SERVICE_SCRIPT, dir];

const armoryConfig = (bed, dir) => `nodes:
${bed.hosts.map((h) => `  ${h}: { address: ${bed.net.host(h).address} }`).join('\n')}
services:
  web:
    command: /bin/sh
    args: ${JSON.stringify(serviceArgs(dir))}
    stop: { grace: 1s }
    vip: { address: ${bed.vip}/24, interface: eth0 }
groups:
  g:
    members: [{ node: h1, priority: 200 }, { node: h2, priority: 100 }]
    witness: w
    services: [web]
`;

const keepalivedConfig = (bed, priority, advert) => `global_defs {
  ${advert < 1 ? 'vrrp_version 3' : ''}
  router_id ${bed.net.tag}
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${(process.pid % 200) + 20}
  priority ${priority}
  advert_int ${advert}
  virtual_ipaddress {
    ${bed.vip}/24 dev eth0
  }
}
`;

/** The one host holding the VIP once the client gets answers through it, with the answering pid. */
async function settled(bed) {
  return waitFor(
    'one holder of the VIP, answering the client',
    () => {
      const h = bed.sampler.holders();
      const last = bed.client.latest();
      return h.length === 1 && last?.pid != null && Date.now() - last.t < 150 ? { host: h[0], pid: last.pid } : undefined;
    },
    { timeoutMs: 30_000, everyMs: 20 },
  );
}

/** TRIALS link-down faults of the holder; outage = fault → first reply from another program. */
async function trials(bed, label, multiplePrograms) {
  const outages = [];
  const from = now();
  for (let i = 0; i < TRIALS; i += 1) {
    const { host, pid } = await settled(bed);
    await sleep(500);
    const t0 = Date.now();
    bed.net.link(host, 'down');
    if (process.env.BENCH_VERBOSE === '1') console.log(new Date(t0).toISOString(), 'fault', host);
    let answer;
    try {
      answer = await waitFor(`${label}: a reply from the standby`, () => bed.client.firstAnswerAfter(t0, multiplePrograms ? pid : null), { timeoutMs: TRIAL_TIMEOUT_MS, everyMs: 5 });
    } finally {
      bed.net.link(host, 'up');
    }
    outages.push(answer.t - t0);
    console.log(`${label} trial ${i + 1}/${TRIALS}: ${host} cut, answered after ${answer.t - t0} ms`);
    await sleep(1000);
  }
  const doubles = bed.sampler.samples.filter((s) => s.t >= from && s.holders.length > 1).length;
  return { outageMs: summarize(outages, 0), trials: outages, doubleHolderSamples: doubles };
}

async function keepalived(bed, tracker, advert) {
  const dir = tracker.tmpDir('keepalived');
  const procs = [];
  for (const [h, prio] of [
    ['h1', 150],
    ['h2', 100],
  ]) {
    const conf = path.join(dir, `${h}-${advert}.conf`);
    fs.writeFileSync(conf, keepalivedConfig(bed, prio, advert));
    bed.net.spawn(h, '/bin/sh', serviceArgs(dir));
    const p = bed.net.spawn(h, 'keepalived', ['--dont-fork', '--log-console', '--no-syslog', '--vrrp', '-f', conf, '-p', path.join(dir, `${h}.pid`), '-r', path.join(dir, `${h}.vrrp.pid`), '-c', path.join(dir, `${h}.chk.pid`)]);
    procs.push(p);
  }
  try {
    // The service answers on both hosts; each answer's pid tells which host replied.
    return await trials(bed, `keepalived advert_int ${advert}s`, true);
  } finally {
    bed.clearHosts();
  }
}

async function main(tracker) {
  execFileSync('keepalived', ['--version'], { stdio: 'ignore' });
  const { FailoverBed } = await importTs(ROOT, 'test/helpers', ['failover-cluster.ts']);
  const bed = new FailoverBed(['h1', 'h2', 'w']);
  tracker.onCleanup(() => bed.down());
  bed.up(10, 50);

  await bed.standUpArmory();
  const applied = await bed.manager.apply(armoryConfig(bed, tracker.tmpDir('service')));
  if (!applied.pushed.every((p) => p.ok)) throw new Error(`configuration not pushed: ${JSON.stringify(applied.pushed)}`);
  const armory = await trials(bed, 'armory (heartbeat 100 ms, failAfter 300 ms)', true);
  if (process.env.BENCH_VERBOSE === '1') {
    for (const n of bed.hosts) await bed.manager.collectEvents(n).catch(() => 0);
    for (const e of bed.manager.readEvents({ limit: 100000 }).filter((e) => e.kind === 'failover' || e.kind === 'transition').slice(-40)) console.log(e.time, e.node, e.from ?? '', e.to ?? '', e.reason.slice(0, 120));
  }
  bed.stopArmory();

  const kaDefault = await keepalived(bed, tracker, 1);
  const kaEqual = await keepalived(bed, tracker, 0.1);

  const ratio = Math.round((armory.outageMs.median / kaEqual.outageMs.median) * 100) / 100;
  writeResult({
    name: NAME,
    figures: { armory, trials: TRIALS },
    anchors: { 'keepalived-defaults': kaDefault, 'keepalived-advert-0.1s': kaEqual },
    headline: `node failure → VIP answering from the standby: armory median ${armory.outageMs.median} ms (max ${armory.outageMs.max}), keepalived at defaults ${kaDefault.outageMs.median} ms, keepalived at 100 ms adverts ${kaEqual.outageMs.median} ms`,
    ratio,
    target: `armory median ≤ ${TARGET_MS} ms and ≤ keepalived at an equal heartbeat interval (ratio ≤ 1)`,
    met: armory.outageMs.median <= TARGET_MS && ratio <= 1,
    notes: [
      'Fault: the link of the host holding the VIP goes down (ip link set … down on its bridge port). Outage: from the fault to the first successful reply from another program, as the client sees it (requests every 10 ms with a 50 ms timeout, so the resolution is about 60 ms).',
      'Armory starts the service on takeover (its start is inside the outage); keepalived only moves the address, the service runs on both hosts all the time. The service is socat answering HTTP (it starts in a few milliseconds), the same for every case.',
      `Samples with two holders of the VIP (10 ms sampler): armory ${armory.doubleHolderSamples}, keepalived defaults ${kaDefault.doubleHolderSamples}, keepalived 0.1 s ${kaEqual.doubleHolderSamples}: a cut-off keepalived master keeps the address.`,
      'Armory group: two members and a witness (3 voters). keepalived: two routers, priorities 150 and 100, preemption on (its default).',
    ],
  });
}

runBenchmark(NAME, main);
