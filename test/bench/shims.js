// Benchmark: session shims against a direct loopback connection and socat as a plain TCP relay.
//  - throughput: one connection streams BENCH_MB MiB to a sink (median of BENCH_REPS interleaved runs)
//  - added latency: ping-pong of 64-byte messages (BENCH_PINGS round trips), p50/p99 minus direct
//  - memory per idle session: RSS of both shim end processes before and after BENCH_IDLE idle sessions
// The two shim ends run as processes of their own (test/bench/_shim-ends.ts, bundled here with
// esbuild: the same code as in the agent), on loopback, once for each transport between them:
// shims (mtls, the default: mutual TLS) and shimsTcp (transport tcp: plain TCP paths proved with
// the session secret).
//  - the cost of waitForMirror: redis-server (AOF fsynced per write) in a folder mirrored to a local
//    folder, through a shim with the option off and on (the same mirror running in both cases):
//    SET ping-pong p50/p99 and writes/s with BENCH_MIRROR_CONNS connections of BENCH_MIRROR_PIPE
//    writes in flight each (BENCH_MIRROR_WRITES writes per run, BENCH_REPS interleaved runs)
//
//   node test/bench/shims.js      (BENCH_MB=512, BENCH_REPS=3, BENCH_PINGS=5000, BENCH_IDLE=500, BENCH_PORT_BASE=19500,
//                                  BENCH_MIRROR_WRITES=20000, BENCH_MIRROR_CONNS=8, BENCH_MIRROR_PIPE=8)
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import { CLK_TCK, NODE, ROOT, assertPortsFree, cpuTicks, envInt, now, procMemKb, round, runBenchmark, sleep, summarize, waitFor, writeResult } from './lib.js';

const NAME = 'shims';
const MB = 1024 * 1024;
const TOTAL = envInt('BENCH_MB', 512, { min: 1, max: 65_536 }) * MB;
const REPS = envInt('BENCH_REPS', 3, { min: 1, max: 50 });
const PINGS = envInt('BENCH_PINGS', 5000, { min: 100, max: 1_000_000 });
const IDLE = envInt('BENCH_IDLE', 500, { min: 10, max: 20_000 });
const WARM_PINGS = Math.min(500, Math.floor(PINGS / 10));
const PORT_BASE = envInt('BENCH_PORT_BASE', 19500, { min: 19000, max: 19980 });
const MIRROR_WRITES = envInt('BENCH_MIRROR_WRITES', 20_000, { min: 100, max: 10_000_000 });
const MIRROR_CONNS = envInt('BENCH_MIRROR_CONNS', 8, { min: 1, max: 256 });
const MIRROR_PIPE = envInt('BENCH_MIRROR_PIPE', 8, { min: 1, max: 256 });

// The service: the first byte chooses a sink ('S': count, answer the count at the end) or an echo ('E').
const SERVICE_JS = `'use strict';
const net = require('node:net');
net.createServer({ allowHalfOpen: true }, (s) => {
  s.on('error', () => {});
  let mode = null; let count = 0;
  s.on('data', (d) => {
    if (mode === null) { mode = String.fromCharCode(d[0]); d = d.subarray(1); }
    if (mode === 'E') s.write(d); else count += d.length;
  });
  s.on('end', () => { if (mode === 'S') s.end(String(count)); else s.end(); });
}).listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    s.setNoDelay(true);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Streams TOTAL bytes to the sink behind `port`; returns MB/s (counted from the sink's answer). */
async function throughput(port) {
  const s = await connect(port);
  const block = Buffer.alloc(MB, 0x5a);
  const t0 = now();
  const answer = new Promise((resolve, reject) => {
    let text = '';
    s.on('data', (d) => (text += d));
    s.on('end', () => resolve(Number(text)));
    s.on('error', reject);
  });
  s.write('S');
  let sent = 0;
  await new Promise((resolve) => {
    const pump = () => {
      while (sent < TOTAL) {
        sent += block.length;
        if (!s.write(block)) return void s.once('drain', pump);
      }
      s.end();
      resolve();
    };
    pump();
  });
  const got = await answer;
  const secs = (now() - t0) / 1000;
  s.destroy();
  if (got !== TOTAL) throw new Error(`the sink counted ${got} bytes of ${TOTAL}`);
  return TOTAL / MB / secs;
}

/**
 * PINGS round trips through `port`, after WARM_PINGS unmeasured ones: `request(i)` out and
 * `replyBytes` back, one at a time (after `preamble`, when given); returns the times in µs.
 */
async function roundTrips(port, request, replyBytes, preamble = null) {
  const s = await connect(port);
  if (preamble !== null) s.write(preamble);
  const rtts = [];
  let pending = 0;
  let resolveOne = null;
  s.on('data', (d) => {
    pending -= d.length;
    if (pending <= 0 && resolveOne) resolveOne();
  });
  for (let i = 0; i < PINGS + WARM_PINGS; i += 1) {
    const t0 = now();
    pending += replyBytes;
    await new Promise((resolve) => {
      resolveOne = resolve;
      s.write(request(i));
    });
    if (i >= WARM_PINGS) rtts.push((now() - t0) * 1000);
  }
  s.destroy();
  return rtts;
}

/** PINGS round trips of 64 bytes through `port` (the echo mode of the sink). */
function pingPong(port) {
  const msg = Buffer.alloc(64, 0x61);
  return roundTrips(port, () => msg, msg.length, 'E');
}

const setCommand = (i) => {
  const key = `k${i % 1000}`;
  const value = 'v'.repeat(64);
  return `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`;
};
/** Replies counted as they come: every SET is answered +OK (5 bytes). */
const OK_BYTES = 5;

/** PINGS SETs through `port`, one at a time; returns the round-trip times in µs. */
function redisPingPong(port) {
  return roundTrips(port, setCommand, OK_BYTES);
}

/** MIRROR_WRITES SETs through `port` over MIRROR_CONNS connections, MIRROR_PIPE in flight on each; returns writes/s. */
async function redisWritesPerSec(port) {
  const socks = await Promise.all(Array.from({ length: MIRROR_CONNS }, () => connect(port)));
  const perConn = Math.ceil(MIRROR_WRITES / MIRROR_CONNS);
  const t0 = now();
  await Promise.all(
    socks.map(
      (s, c) =>
        new Promise((resolve, reject) => {
          let sent = 0;
          let answered = 0;
          let bytes = 0;
          const more = () => {
            while (sent < perConn && sent - answered < MIRROR_PIPE) s.write(setCommand(c * perConn + sent++));
          };
          s.on('data', (d) => {
            bytes += d.length;
            answered = Math.floor(bytes / OK_BYTES);
            if (answered >= perConn) resolve();
            else more();
          });
          s.on('error', reject);
          more();
        }),
    ),
  );
  const secs = (now() - t0) / 1000;
  for (const s of socks) s.destroy();
  return (perConn * MIRROR_CONNS) / secs;
}

/** Has redis rewrite its AOF (a small base, an empty increment) and waits until it is done. */
async function rewriteAof(port) {
  const s = await connect(port);
  let text = '';
  s.on('data', (d) => (text += d));
  const ask = async (cmd, done) => {
    text = '';
    s.write(cmd);
    await waitFor(`redis to answer ${cmd.split('\r\n')[2]}`, () => done(text), { timeoutMs: 30_000, everyMs: 5 });
  };
  await ask('*1\r\n$12\r\nBGREWRITEAOF\r\n', (t) => t.endsWith('\r\n'));
  await waitFor('the AOF rewrite to finish', async () => {
    let info = '';
    await ask('*2\r\n$4\r\nINFO\r\n$11\r\npersistence\r\n', (t) => {
      info = t;
      return /aof_rewrite_in_progress:\d/.test(t) && t.endsWith('\r\n');
    });
    return /aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info);
  }, { timeoutMs: 30_000, everyMs: 20 });
  s.destroy();
}

/** Bytes of redis's AOF increment files (what grows with each write until the next rewrite). */
function aofIncrementBytes(dir) {
  const sub = path.join(dir, 'appendonlydir');
  return fs.readdirSync(sub).filter((f) => f.endsWith('.incr.aof')).reduce((n, f) => n + fs.statSync(path.join(sub, f)).size, 0);
}

async function main(tracker) {
  const dir = tracker.tmpDir('shims');
  // tcpServer + 1 is the plain port of the tcp-transport server end.
  const ports = {
    service: PORT_BASE,
    socat: PORT_BASE + 1,
    client: PORT_BASE + 2,
    server: PORT_BASE + 3,
    tlsClient: PORT_BASE + 4,
    tlsServer: PORT_BASE + 5,
    tcpClient: PORT_BASE + 6,
    tcpServer: PORT_BASE + 7,
    tcpServerPlain: PORT_BASE + 8,
    redis: PORT_BASE + 9,
    mirrorOffServer: PORT_BASE + 10,
    mirrorOnServer: PORT_BASE + 11,
    mirrorOffClient: PORT_BASE + 12,
    mirrorOnClient: PORT_BASE + 13,
  };
  await assertPortsFree(Object.values(ports));
  const serviceJs = path.join(dir, 'service.cjs');
  fs.writeFileSync(serviceJs, SERVICE_JS);
  const endsJs = path.join(dir, 'shim-ends.js');
  await build({
    entryPoints: [path.join(ROOT, 'test/bench/_shim-ends.ts')],
    outfile: endsJs,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['koffi', 'ssh2', 'cpu-features'],
    banner: { js: "import { createRequire as __armoryRequire } from 'node:module'; const require = __armoryRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  const pkiFile = path.join(dir, 'pki.json');
  execFileSync(NODE, [endsJs, 'pki', pkiFile], { cwd: ROOT, stdio: 'inherit' });

  const start = async (command, args) => {
    tracker.assertRunning();
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    child.on('error', () => undefined);
    tracker.track(child.pid, { group: true });
    return child;
  };
  const ready = (child, what) => new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${what} not ready in 15 s`)), 15_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  const service = await start(NODE, [serviceJs, String(ports.service)]);
  await ready(service, 'the service');
  const server = await start(NODE, [endsJs, 'server', pkiFile, String(ports.server), String(ports.service)]);
  await ready(server, 'the server end');
  const client = await start(NODE, [endsJs, 'client', pkiFile, String(ports.client), String(ports.server)]);
  await ready(client, 'the client end');
  const tcpServer = await start(NODE, [endsJs, 'server', pkiFile, String(ports.tcpServer), String(ports.service), 'tcp']);
  await ready(tcpServer, 'the server end (transport tcp)');
  const tcpClient = await start(NODE, [endsJs, 'client', pkiFile, String(ports.tcpClient), String(ports.tcpServer), 'tcp']);
  await ready(tcpClient, 'the client end (transport tcp)');
  const tlsServer = await start(NODE, [endsJs, 'tls-server', pkiFile, String(ports.tlsServer), String(ports.service)]);
  await ready(tlsServer, 'the bare TLS relay (server side)');
  const tlsClient = await start(NODE, [endsJs, 'tls-client', pkiFile, String(ports.tlsClient), String(ports.tlsServer)]);
  await ready(tlsClient, 'the bare TLS relay (client side)');
  await start('socat', [`TCP-LISTEN:${ports.socat},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${ports.service},nodelay`]);
  await waitFor('socat to listen', async () => {
    try {
      (await connect(ports.socat)).destroy();
      return true;
    } catch {
      return false;
    }
  });

  const subjects = { direct: ports.service, socat: ports.socat, tlsRelay: ports.tlsClient, shims: ports.client, shimsTcp: ports.tcpClient };
  // Throughput, interleaved run by run so that a busy moment hits all alike.
  const mbps = { direct: [], socat: [], tlsRelay: [], shims: [], shimsTcp: [] };
  // CPU time of the two relaying processes of each Node subject: what a byte and a round trip cost
  // them, a figure that other work on the machine disturbs far less than elapsed time.
  const relays = { tlsRelay: [tlsClient.pid, tlsServer.pid], shims: [client.pid, server.pid], shimsTcp: [tcpClient.pid, tcpServer.pid] };
  const cpuMs = (name) => ((relays[name] ?? []).reduce((n, pid) => n + (cpuTicks(pid) ?? 0), 0) * 1000) / CLK_TCK;
  const cpuPerGB = {};
  const cpuPerRoundTrip = {};
  await throughput(ports.client); // warm-up (TLS, JIT)
  await throughput(ports.tcpClient);
  for (let r = 0; r < REPS; r += 1) {
    for (const [name, port] of Object.entries(subjects)) {
      const c0 = cpuMs(name);
      mbps[name].push(await throughput(port));
      cpuPerGB[name] = (cpuPerGB[name] ?? 0) + (cpuMs(name) - c0) / ((REPS * TOTAL) / 1024 ** 3);
    }
  }
  // Ping-pong latency.
  const rtt = {};
  for (const [name, port] of Object.entries(subjects)) {
    const c0 = cpuMs(name);
    const rtts = await pingPong(port);
    cpuPerRoundTrip[name] = ((cpuMs(name) - c0) * 1000) / (PINGS + WARM_PINGS);
    rtt[name] = summarize(rtts, 1);
  }
  // Memory per idle session: both shim end processes.
  const rssOf = () => (procMemKb(client.pid)?.rss ?? 0) + (procMemKb(server.pid)?.rss ?? 0);
  await sleep(500);
  const before = rssOf();
  const idle = [];
  for (let i = 0; i < IDLE; i += 1) {
    const s = await connect(ports.client);
    s.on('error', () => undefined);
    s.write('E');
    idle.push(s);
  }
  // Every session is established end to end once its echo came back.
  const probe = Buffer.from('x');
  await Promise.all(idle.map((s) => new Promise((resolve) => { s.once('data', resolve); s.write(probe); })));
  await sleep(1000);
  const after = rssOf();
  for (const s of idle) s.destroy();

  // The cost of waitForMirror: redis fsyncing its AOF per write in a mirrored folder.
  const mirrorData = path.join(dir, 'redis-data');
  const mirrorTo = path.join(dir, 'disk2');
  fs.mkdirSync(mirrorData);
  fs.mkdirSync(mirrorTo);
  await start('redis-server', ['--port', String(ports.redis), '--bind', '127.0.0.1', '--dir', mirrorData, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--auto-aof-rewrite-min-size', '1mb', '--daemonize', 'no']);
  await waitFor('redis to listen', async () => {
    try {
      (await connect(ports.redis)).destroy();
      return true;
    } catch {
      return false;
    }
  }, { timeoutMs: 15_000 });
  const mirrored = await start(NODE, [endsJs, 'mirrored-server', pkiFile, String(ports.mirrorOffServer), String(ports.mirrorOnServer), String(ports.redis), mirrorData, mirrorTo]);
  await ready(mirrored, 'the mirrored server ends');
  const offClient = await start(NODE, [endsJs, 'client', pkiFile, String(ports.mirrorOffClient), String(ports.mirrorOffServer)]);
  await ready(offClient, 'the client end (waitForMirror off)');
  const onClient = await start(NODE, [endsJs, 'client', pkiFile, String(ports.mirrorOnClient), String(ports.mirrorOnServer)]);
  await ready(onClient, 'the client end (waitForMirror on)');
  const mirrorSubjects = { direct: ports.redis, off: ports.mirrorOffClient, on: ports.mirrorOnClient };
  // Each run starts from a freshly rewritten AOF, so that the runs compare alike (a rewrite is a new
  // file, copied whole; the writes after it are appends, shipped as their new bytes).
  const aofAfter = { pingPong: {}, writes: {} };
  const mirrorRtt = {};
  for (const [name, port] of Object.entries(mirrorSubjects)) {
    await rewriteAof(ports.redis);
    mirrorRtt[name] = summarize(await redisPingPong(port), 1);
    aofAfter.pingPong[name] = aofIncrementBytes(mirrorData);
  }
  const writesPerSec = { direct: [], off: [], on: [] };
  await redisWritesPerSec(ports.mirrorOnClient); // warm-up
  for (let r = 0; r < REPS; r += 1) {
    for (const [name, port] of Object.entries(mirrorSubjects)) {
      await rewriteAof(ports.redis);
      writesPerSec[name].push(await redisWritesPerSec(port));
      aofAfter.writes[name] = Math.max(aofAfter.writes[name] ?? 0, aofIncrementBytes(mirrorData));
    }
  }
  const filesInCopy = fs.readdirSync(path.join(mirrorTo, mirrorData), { recursive: true }).length;

  const med = (xs) => summarize(xs, 1).median;
  const direct = med(mbps.direct);
  const socat = med(mbps.socat);
  const perSessionKb = round((after - before) / IDLE, 1);
  /** One transport's figures against the anchors, and whether it meets the targets. */
  const judge = (name) => {
    const t = med(mbps[name]);
    const addedP50 = round(rtt[name].median - rtt.direct.median, 1);
    return {
      throughputMBps: t,
      ratioToDirect: round(t / direct, 3),
      ratioToSocat: round(t / socat, 3),
      addedP50Us: addedP50,
      addedP99Us: round(rtt[name].p99 - rtt.direct.p99, 1),
      met: t / direct >= 0.8 && addedP50 <= 100,
    };
  };
  const mtls = judge('shims');
  const tcp = judge('shimsTcp');
  const wfm = {
    roundTripUs: Object.fromEntries(Object.keys(mirrorSubjects).map((k) => [k, { ...mirrorRtt[k], unit: 'µs' }])),
    addedP50Us: round(mirrorRtt.on.median - mirrorRtt.off.median, 1),
    addedP99Us: round(mirrorRtt.on.p99 - mirrorRtt.off.p99, 1),
    writesPerSec: { direct: med(writesPerSec.direct), off: med(writesPerSec.off), on: med(writesPerSec.on), samples: writesPerSec },
    writesRatioOnToOff: round(med(writesPerSec.on) / med(writesPerSec.off), 3),
    connections: MIRROR_CONNS,
    inFlightPerConnection: MIRROR_PIPE,
    writesPerRun: MIRROR_WRITES,
    filesInCopy,
    aofIncrementBytesAtEnd: aofAfter,
  };
  const line = (label, j) => `${label} ${j.throughputMBps} MB/s (${Math.round(j.ratioToDirect * 100)} % of direct, ${Math.round(j.ratioToSocat * 100)} % of socat), +${j.addedP50Us} µs p50 / +${j.addedP99Us} µs p99`;
  writeResult({
    name: NAME,
    figures: {
      throughputMBps: { direct, socat, tlsRelay: med(mbps.tlsRelay), shims: mtls.throughputMBps, shimsTcp: tcp.throughputMBps, samples: mbps },
      roundTripUs: Object.fromEntries(Object.keys(subjects).map((k) => [k, { ...rtt[k], unit: 'µs' }])),
      addedLatencyUs: { p50: mtls.addedP50Us, p99: mtls.addedP99Us, tcpP50: tcp.addedP50Us, tcpP99: tcp.addedP99Us, socatP50: round(rtt.socat.median - rtt.direct.median, 1), tlsRelayP50: round(rtt.tlsRelay.median - rtt.direct.median, 1) },
      transports: { mtls, tcp },
      relayCpuMsPerGB: Object.fromEntries(Object.keys(relays).map((k) => [k, round(cpuPerGB[k], 0)])),
      relayCpuUsPerRoundTrip: Object.fromEntries(Object.keys(relays).map((k) => [k, round(cpuPerRoundTrip[k], 0)])),
      memoryPerIdleSessionKb: perSessionKb,
      waitForMirror: wfm,
      idleSessions: IDLE,
      streamMB: TOTAL / MB,
    },
    anchors: {
      directThroughputMBps: direct,
      directRoundTripP50Us: rtt.direct.median,
      socatThroughputMBps: socat,
      socatRoundTripP50Us: rtt.socat.median,
      tlsRelayThroughputMBps: med(mbps.tlsRelay),
      tlsRelayRoundTripP50Us: rtt.tlsRelay.median,
    },
    headline: `${line('shims (mtls)', mtls)}; ${line('transport tcp', tcp)}; direct ${direct} MB/s, socat ${socat} MB/s; ${perSessionKb} KB per idle session (mtls, both ends); waitForMirror (redis, AOF fsync always, mirrored): +${wfm.addedP50Us} µs p50 per SET, ${wfm.writesPerSec.on} vs ${wfm.writesPerSec.off} writes/s (${Math.round(wfm.writesRatioOnToOff * 100)} %)`,
    ratio: mtls.ratioToDirect,
    target: '>= 0.8 of direct throughput and <= 100 µs added p50 round-trip latency (each transport judged alone; ratio is the default transport, mtls)',
    met: mtls.met,
    notes: [
      `transport tcp: ${tcp.met ? 'meets' : 'does not meet'} the targets (ratio ${tcp.ratioToDirect}, +${tcp.addedP50Us} µs p50).`,
      'Everything on one machine over loopback: the client program, the client end, the server end, the service, each a process of its own; the two ends talk mutual TLS 1.3 (AES-GCM) as they do between nodes.',
      'The shim path makes three socket hops instead of one and encrypts and decrypts every byte; direct loopback is the hardest anchor there is (no network in the way).',
      'shimsTcp is transport tcp: the session opened over mutual TLS, the data over a plain TCP path proved with the session secret (HMAC challenge); socat is its floor (a plain relay, in C, one process instead of two).',
      'relayCpuMsPerGB / relayCpuUsPerRoundTrip: user + system CPU time of the two relaying processes (both shim ends, or both bare TLS relays) per GiB streamed and per round trip. On a loaded machine elapsed-time figures follow the CPU share the relays get; these follow what the code costs.',
      'tlsRelay is the floor of the mtls transport: two bare Node processes relaying TCP → mutual TLS → TCP with pipe(), no sessions, frames, acknowledgements or replay; the gap between it and shims is what the session protocol costs, the gap between it and direct is what an encrypted relay through two extra processes costs.',
      `waitForMirror: redis-server with --appendfsync always in a folder mirrored (as the agent does it: FolderMirror to a LocalTarget, mirror.to on the same disk here) and the shim's server end with the option off and on, in one process; the mirror runs in both cases, so the difference is what the replies waiting for Mirrors.barrier cost. Round trips: one SET at a time (${PINGS}); writes/s: ${MIRROR_CONNS} connections with ${MIRROR_PIPE} SETs in flight each (${MIRROR_WRITES} per run, median of ${REPS}); direct is redis without a shim. The data and its copy are both on the disk of os.tmpdir(); a standby over the network adds its round trip to each barrier. Each run starts from a rewritten AOF (BGREWRITEAOF; auto-rewrite past 1 MB), so that runs compare alike: a file the mirror cannot ship as an append (a rewrite) is copied whole (aofIncrementBytesAtEnd: how far the increment grew).`,
      'Memory per idle session is the growth of both ends\' resident memory (user space only, not kernel socket buffers) divided by the number of sessions, each established end to end.',
    ],
  });
}

runBenchmark(NAME, main);
