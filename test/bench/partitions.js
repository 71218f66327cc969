// Benchmark: random partitions of a failover group, and how often two hosts hold the virtual IP at
// once. Three test hosts in network namespaces (one bridge) and a client; a sampler records every
// 10 ms which hosts hold the VIP. Each round isolates a host (link down), cuts one path between two
// hosts or two paths (blackhole routes, both ways), holds it 100–700 ms, heals, waits 100–400 ms.
//   (a) Armory: a group of three members (heartbeat 100 ms, failAfter 300 ms);
//   (b) the anchor: keepalived on the same three hosts at the same interval (VRRPv3, advert_int
//       0.1 s, unicast peers so that a cut path stops its adverts), which has no quorum.
// The npm-test version (test/cluster/failover.serial.test.ts) runs 50 rounds; this one runs
// BENCH_PARTITIONS (default 300) for Armory and BENCH_ANCHOR_PARTITIONS (default 50) for keepalived.
//
//   node test/bench/partitions.js        (BENCH_PARTITIONS=300, BENCH_ANCHOR_PARTITIONS=50, BENCH_SEED)
import fs from 'node:fs';
import path from 'node:path';
import { importTs } from './_import-ts.js';
import { ROOT, envInt, now, runBenchmark, sleep, waitFor, writeResult } from './lib.js';

const NAME = 'partitions';
const ROUNDS = envInt('BENCH_PARTITIONS', 300, { min: 1, max: 100_000 });
const ANCHOR_ROUNDS = envInt('BENCH_ANCHOR_PARTITIONS', 50, { min: 1, max: 100_000 });
const SEED = envInt('BENCH_SEED', 20261123, { min: 1, max: 2 ** 31 - 1 });
const HOSTS = ['h1', 'h2', 'h3'];
const SERVICE_SCRIPT = 'exec socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:echo\\ HTTP/1.0\\ 200';

/** ROUNDS random partitions and heals; returns the samples taken meanwhile with two holders or more. */
async function campaign(bed, rounds, seed) {
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const pairs = [
    ['h1', 'h2'],
    ['h1', 'h3'],
    ['h2', 'h3'],
  ];
  const from = now();
  const kinds = { isolate: 0, pair: 0, 'two-pairs': 0 };
  for (let i = 0; i < rounds; i += 1) {
    const kind = pick(['isolate', 'pair', 'two-pairs']);
    kinds[kind] += 1;
    const heal = [];
    if (kind === 'isolate') {
      const h = pick(HOSTS);
      bed.net.link(h, 'down');
      heal.push(() => bed.net.link(h, 'up'));
    } else {
      const spared = pick(pairs);
      const cut = kind === 'pair' ? [pick(pairs)] : pairs.filter((p) => p !== spared);
      for (const [a, b] of cut) {
        bed.net.cut(a, b);
        heal.push(() => bed.net.mend(a, b));
      }
    }
    await sleep(100 + random() * 600);
    for (const h of heal) h();
    await sleep(100 + random() * 300);
    if ((i + 1) % 50 === 0) console.log(`  ${i + 1}/${rounds} rounds`);
  }
  const samples = bed.sampler.samples.filter((x) => x.t >= from);
  const doubles = samples.filter((x) => x.holders.length > 1);
  const none = samples.filter((x) => x.holders.length === 0).length;
  return { rounds, kinds, samples: samples.length, doubleHolderSamples: doubles.length, noHolderSamples: none, seconds: Math.round((now() - from) / 1000) };
}

async function main(tracker) {
  const { FailoverBed } = await importTs(ROOT, 'test/helpers', ['failover-cluster.ts']);
  const bed = new FailoverBed(HOSTS);
  tracker.onCleanup(() => bed.down());
  bed.up(10, 50);

  await bed.standUpArmory();
  const yaml = `nodes:
${HOSTS.map((h) => `  ${h}: { address: ${bed.net.host(h).address} }`).join('\n')}
services:
  web:
    command: /bin/sh
    args: ${JSON.stringify(['-c', SERVICE_SCRIPT])}
    stop: { grace: 1s }
    vip: { address: ${bed.vip}/24, interface: eth0 }
groups:
  g:
    members: [{ node: h1, priority: 200 }, { node: h2, priority: 150 }, { node: h3, priority: 100 }]
    services: [web]
`;
  const applied = await bed.manager.apply(yaml);
  if (!applied.pushed.every((p) => p.ok)) throw new Error(`configuration not pushed: ${JSON.stringify(applied.pushed)}`);
  await waitFor('one holder', () => bed.sampler.holders().length === 1, { timeoutMs: 30_000 });
  console.log(`armory: ${ROUNDS} rounds`);
  const armory = await campaign(bed, ROUNDS, SEED);
  bed.stopArmory();

  const dir = tracker.tmpDir('keepalived');
  HOSTS.forEach((h, i) => {
    const conf = path.join(dir, `${h}.conf`);
    const peers = HOSTS.filter((x) => x !== h).map((x) => bed.net.host(x).address);
    fs.writeFileSync(
      conf,
      `global_defs {\n  vrrp_version 3\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id ${(process.pid % 200) + 20}\n  priority ${200 - i * 50}\n  advert_int 0.1\n  unicast_src_ip ${bed.net.host(h).address}\n  unicast_peer {\n${peers.map((p) => `    ${p}\n`).join('')}  }\n  virtual_ipaddress {\n    ${bed.vip}/24 dev eth0\n  }\n}\n`,
    );
    bed.net.spawn(h, 'keepalived', ['--dont-fork', '--log-console', '--no-syslog', '--vrrp', '-f', conf, '-p', path.join(dir, `${h}.pid`), '-r', path.join(dir, `${h}.vrrp.pid`), '-c', path.join(dir, `${h}.chk.pid`)]);
  });
  await waitFor('keepalived to elect a master', () => bed.sampler.holders().length === 1, { timeoutMs: 30_000 });
  console.log(`keepalived: ${ANCHOR_ROUNDS} rounds`);
  const keepalived = await campaign(bed, ANCHOR_ROUNDS, SEED);
  bed.clearHosts();

  writeResult({
    name: NAME,
    figures: { armory, seed: SEED },
    anchors: { 'keepalived-advert-0.1s-unicast': keepalived },
    headline: `random partitions of a 3-node group: armory ${armory.doubleHolderSamples} samples with two VIP holders in ${armory.rounds} rounds (${armory.samples} samples); keepalived ${keepalived.doubleHolderSamples} in ${keepalived.rounds} rounds`,
    ratio: armory.doubleHolderSamples,
    target: '0 samples with two holders of the VIP (10 ms sampler)',
    met: armory.doubleHolderSamples === 0,
    notes: [
      'A sample reads each host namespace\'s local routing table (/proc/PID/net/fib_trie) every 10 ms; a host holds the VIP when it is a local address there.',
      'Rounds: a host cut off (link down), one path cut, or two paths cut (blackhole routes both ways), held 100–700 ms, then healed, 100–400 ms apart.',
      'noHolderSamples counts samples with no holder: the price of the quorum rule while a partition leaves no node with a majority, and of failover time.',
    ],
  });
}

runBenchmark(NAME, main);
