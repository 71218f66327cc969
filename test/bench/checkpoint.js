// Benchmark: checkpoint save and load throughput through the agent's checkpoint socket, with the
// Node client programs import (dist/checkpoint-client.js), for 1 MB and 100 MB checkpoints. The
// anchor is the disk itself: the same bytes written to a file with write + fsync + rename + fsync of
// the folder, and read back, in this process.
//
//   node test/bench/checkpoint.js     (BENCH_TRIALS=20 for 1 MB, BENCH_BIG_TRIALS=5 for 100 MB)
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ArmoryAgent, ROOT, envInt, now, round, runBenchmark, summarize, waitFor, writeResult } from './lib.js';

const NAME = 'checkpoint';
const TRIALS = envInt('BENCH_TRIALS', 20, { min: 1, max: 1000 });
const BIG_TRIALS = envInt('BENCH_BIG_TRIALS', 5, { min: 1, max: 100 });
const MB = 1024 * 1024;

function durableWrite(file, data) {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  fs.writeSync(fd, data);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  const dfd = fs.openSync(path.dirname(file), 'r');
  fs.fsyncSync(dfd);
  fs.closeSync(dfd);
}

async function main(tracker) {
  const { saveCheckpoint, loadCheckpoint } = await import(path.join(ROOT, 'dist/checkpoint-client.js'));
  const dir = tracker.tmpDir('checkpoint');
  const agent = new ArmoryAgent(tracker, path.join(dir, 'agent'), {
    holder: { command: '/bin/sleep', args: ['100000'], checkpoint: { keep: 2, maxSize: '200MB' } },
  });
  await agent.start();
  const socket = path.join(agent.stateDir, 'checkpoint/holder.sock');
  await waitFor('the checkpoint socket', () => fs.existsSync(socket), { timeoutMs: 20_000 });
  const raw = path.join(dir, 'raw');
  fs.mkdirSync(raw);

  const figures = {};
  const anchors = {};
  for (const [label, bytes, trials] of [['1MB', MB, TRIALS], ['100MB', 100 * MB, BIG_TRIALS]]) {
    const save = [];
    const load = [];
    const rawSave = [];
    const rawLoad = [];
    for (let i = 0; i < trials; i += 1) {
      const data = randomBytes(bytes);
      let t = now();
      await saveCheckpoint(data, { socket });
      save.push(bytes / MB / ((now() - t) / 1000));
      t = now();
      const got = await loadCheckpoint({ socket });
      load.push(bytes / MB / ((now() - t) / 1000));
      if (!got || !got.data.equals(data)) throw new Error('the loaded checkpoint differs from the saved one');
      t = now();
      durableWrite(path.join(raw, 'state'), data);
      rawSave.push(bytes / MB / ((now() - t) / 1000));
      t = now();
      fs.readFileSync(path.join(raw, 'state'));
      rawLoad.push(bytes / MB / ((now() - t) / 1000));
    }
    figures[label] = { save: { ...summarize(save, 1), unit: 'MB/s' }, load: { ...summarize(load, 1), unit: 'MB/s' } };
    anchors[label] = { durableWrite: { ...summarize(rawSave, 1), unit: 'MB/s' }, read: { ...summarize(rawLoad, 1), unit: 'MB/s' } };
    console.log(`  ${label}: save ${figures[label].save.median} MB/s (disk ${anchors[label].durableWrite.median}), load ${figures[label].load.median} MB/s (disk ${anchors[label].read.median})`);
  }
  const ratio = round(figures['100MB'].save.median / anchors['100MB'].durableWrite.median, 2);
  writeResult({
    name: NAME,
    figures,
    anchors,
    headline: `100 MB checkpoint: save ${figures['100MB'].save.median} MB/s, load ${figures['100MB'].load.median} MB/s (durable write of the same bytes ${anchors['100MB'].durableWrite.median} MB/s)`,
    ratio,
    target: 'save throughput of a 100 MB checkpoint ≥ half of a durable write of the same bytes (ratio ≥ 0.5)',
    met: ratio >= 0.5,
    notes: [
      'Save = saveCheckpoint(buffer) through the Unix socket until the agent replied that the checkpoint is durable (streamed in 1 MiB frames, SHA-256 computed, fsync, rename, fsync of the folder, old versions pruned). Load = loadCheckpoint() until the whole checkpoint was received and checked against its SHA-256; the agent verifies the stored checksum before it sends, so a load reads the file twice.',
      'Anchor: the same bytes written by this process with write + fsync + rename + fsync of the folder, and read back with readFileSync (from the page cache, as the agent reads too).',
      'ratio = Armory save / anchor durable write for 100 MB (MB/s medians).',
    ],
  });
}

runBenchmark(NAME, main);
