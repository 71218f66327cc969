import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manager } from '../../main/core/manager.js';
import { ManagedHosts } from '../helpers/cluster-agents.js';
import { streamPrograms, type StreamResult } from '../helpers/shim-rig.js';
import { sleep, waitFor } from '../helpers/wait.js';

// Session shims between two test hosts: the client program on h1 talks to the client end of h1's
// agent; the service runs on h2 behind the server end of h2's agent. h2's cable is pulled for 5 s,
// several times, while data streams both ways.
const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/shim-stream.js');
const MB = 1024 * 1024;
/** Bytes each way (1 GB: about 35 s here with the cuts; SHIM_STREAM_MB=64 for a quick run). */
const BYTES = Number(process.env.SHIM_STREAM_MB ?? 1024) * MB;
const CUTS = 3;
const hosts = new ManagedHosts('shims', ['h1', 'h2']);
const net = hosts.net;
let home = '';
let manager: Manager;

beforeAll(async () => {
  await hosts.up();
  ({ home, manager } = hosts);
}, 60_000);

afterAll(() => hosts.down());

// redis speaks plain TCP to its clients: its shim uses transport tcp (opened over mutual TLS, the
// data over plain paths proved with the session secret), so the cut is survived on that transport too.
const REDIS = `
  redis:
    command: /usr/bin/redis-server
    args: ["--port", "7800", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"]
    placement: { nodes: [h2] }
    shims:
      - listen: 127.0.0.1:7801
        target: 127.0.0.1:7800
        port: 7802
        transport: tcp
        clients: [h1]
        heartbeat: 500ms
        brokenFor: 30s
`;

const config = (extra = '') => `nodes:
  h1: { address: ${net.host('h1').address} }
  h2: { address: ${net.host('h2').address} }
services:
  stream:
    command: ${process.execPath}
    args: ["${FIXTURE}", server, 127.0.0.1, "7700", "${BYTES}"]
    placement: { nodes: [h2] }
    shims:
      - listen: 127.0.0.1:7600
        target: 127.0.0.1:7700
        port: 7601
        clients: [h1]
        heartbeat: 500ms
        brokenFor: 30s
${extra}`;

/** What the service printed (its log on h2). */
function serviceResults(): StreamResult[] {
  const file = path.join(home, 'hosts/h2/var-lib-armory/logs/stream.log');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => /\{.*\}/.exec(l)?.[0])
    .filter((l): l is string => l !== undefined)
    .map((l) => JSON.parse(l) as StreamResult);
}

describe('session shims between test hosts', () => {
  it(`streams ${BYTES / MB} MB each way while h2's link goes down for 5 s ${CUTS} times: same SHA-256, no program sees an error`, async () => {
    const r = await manager.apply(config());
    expect(r.pushed.every((p) => p.ok)).toBe(true);
    await waitFor('the service to listen', () => serviceResults().some((x) => x.listening === 7700), { timeoutMs: 20_000 });
    const programs = streamPrograms((args) => net.spawn('h1', process.execPath, args));
    // The client end on h1 may need a moment after the configuration landed.
    let client = programs.client('127.0.0.1', 7600, BYTES);
    await waitFor('the client program to connect', async () => {
      if (client.results.some((x) => x.progress !== undefined)) return true;
      if (client.child.exitCode !== null && !client.results.some((x) => x.connected)) {
        await sleep(200);
        client = programs.client('127.0.0.1', 7600, BYTES);
      }
      return false;
    }, { timeoutMs: 20_000 });
    let cutsMidStream = 0;
    for (let i = 1; i <= CUTS; i += 1) {
      const at = (BYTES * i) / (CUTS + 2);
      await waitFor(`the stream to pass ${Math.round(at / MB)} MB`, () => client.results.some((x) => (x.progress ?? 0) >= at), { timeoutMs: 120_000 });
      if (!client.results.some((x) => x.receivedSha !== undefined)) cutsMidStream += 1;
      net.link('h2', 'down');
      await sleep(5000);
      net.link('h2', 'up');
    }
    const c = await waitFor('the client program to finish', () => client.results.find((x) => x.receivedSha !== undefined || x.error !== undefined), { timeoutMs: 300_000, everyMs: 200 });
    const s = await waitFor('the service to finish', () => serviceResults().find((x) => x.receivedSha !== undefined || x.error !== undefined), { timeoutMs: 60_000, everyMs: 200 });
    expect(c.error).toBeUndefined();
    expect(s.error).toBeUndefined();
    expect(c.errors).toEqual([]);
    expect(s.errors).toEqual([]);
    expect(s.received).toBe(BYTES);
    expect(s.receivedSha).toBe(c.sentSha);
    expect(c.received).toBe(BYTES);
    expect(c.receivedSha).toBe(s.sentSha);
    // The journal says the path broke and the session resumed, each time.
    await manager.collectEvents('h1');
    const resumed = manager.readEvents({ node: 'h1', service: 'stream' }).filter((e) => /session resumed/.test(e.reason));
    expect(cutsMidStream).toBeGreaterThanOrEqual(1);
    expect(resumed.length).toBeGreaterThanOrEqual(cutsMidStream);
  }, 600_000);

  it('keeps a redis-cli SUBSCRIBE to redis-server (Debian packages) open across a 5 s link cut over transport tcp: no message lost, the same connection', async () => {
    const r = await manager.apply(config(REDIS));
    expect(r.pushed.every((p) => p.ok)).toBe(true);
    const onH2 = (args: string[]) => execFileSync('ip', ['netns', 'exec', net.host('h2').netns, '/usr/bin/redis-cli', '-p', '7800', ...args], { encoding: 'utf8' }).trim();
    await waitFor('redis-server to answer on h2', () => {
      try {
        return onH2(['PING']) === 'PONG';
      } catch {
        return false;
      }
    }, { timeoutMs: 20_000 });
    let heard = '';
    const startSubscriber = () => {
      heard = '';
      const sub = net.spawn('h1', '/usr/bin/redis-cli', ['-h', '127.0.0.1', '-p', '7801', 'SUBSCRIBE', 'news']);
      sub.stdout?.on('data', (d: Buffer) => (heard += d.toString()));
      sub.stderr?.on('data', (d: Buffer) => (heard += d.toString()));
      return sub;
    };
    let sub = startSubscriber();
    // The client end on h1 may start a moment after the configuration landed: retry the subscriber until it is in.
    await waitFor('the subscriber to be subscribed', async () => {
      if (onH2(['PUBSUB', 'NUMSUB', 'news']).split('\n')[1] === '1') return true;
      if (sub.exitCode !== null) {
        await sleep(200);
        sub = startSubscriber();
      }
      return false;
    }, { timeoutMs: 20_000 });
    const clientId = () => /id=(\d+)[^\n]*cmd=subscribe/.exec(onH2(['CLIENT', 'LIST']))?.[1];
    const before = clientId();
    expect(before).toBeDefined();
    onH2(['PUBLISH', 'news', 'before-the-cut']);
    await waitFor('the first message', () => heard.includes('before-the-cut'));
    net.link('h2', 'down');
    await sleep(1000);
    // Published while the path is down: redis-server hands it to the server end, which keeps it for the session.
    expect(onH2(['PUBLISH', 'news', 'during-the-cut'])).toBe('1');
    await sleep(4000);
    net.link('h2', 'up');
    await waitFor('the message published during the cut', () => heard.includes('during-the-cut'), { timeoutMs: 20_000 });
    onH2(['PUBLISH', 'news', 'after-the-cut']);
    await waitFor('the message published after the cut', () => heard.includes('after-the-cut'), { timeoutMs: 10_000 });
    expect(sub.exitCode).toBeNull();
    expect(heard).not.toMatch(/error|reset|closed/i);
    // redis-server still serves the very same client connection.
    expect(clientId()).toBe(before);
    sub.kill('SIGKILL');
  }, 120_000);
});
