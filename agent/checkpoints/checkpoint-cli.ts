import { pipeline } from 'node:stream/promises';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { intFlag, parseCommandLine } from '../../common/node/cli-args.js';
import { listCheckpoints, loadCheckpointStream, saveCheckpoint } from './checkpoint-client.js';

const USAGE = `usage: armory-checkpoint save < STATE       save standard input as a new checkpoint
       armory-checkpoint load > STATE       write the newest valid checkpoint (exit 3 when there is none)
       armory-checkpoint list               list the stored checkpoints, newest first
options: --socket PATH (default: $ARMORY_CHECKPOINT_SOCKET)  --seq N (load that checkpoint)  --json`;

/** The shell client of the checkpoint API; returns the exit code. */
export async function checkpointCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { socket: { type: 'string' }, seq: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = values.socket !== undefined ? { socket: values.socket } : {};
  const [command, ...rest] = positionals;
  if (rest.length > 0) throw new ArmoryError('CLI_E_USAGE', `unexpected ${rest.join(' ')}\n\n${USAGE}`);
  if (command === 'save') {
    const meta = await saveCheckpoint(process.stdin, options);
    process.stderr.write(`checkpoint ${meta.seq} saved (${meta.size} bytes, epoch ${meta.epoch})\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(meta)}\n`);
    return 0;
  }
  if (command === 'load') {
    const seq = values.seq === undefined ? undefined : intFlag(values.seq, 'seq', 0, 0, Number.MAX_SAFE_INTEGER, USAGE);
    const loaded = await loadCheckpointStream({ ...options, ...(seq !== undefined ? { seq } : {}) });
    if (!loaded) {
      process.stderr.write('armory-checkpoint: no checkpoint is stored yet [CHECKPOINT_E_NONE]\n');
      return 3;
    }
    await pipeline(loaded.stream, process.stdout);
    process.stderr.write(`checkpoint ${loaded.meta.seq} loaded (${loaded.meta.size} bytes, saved ${loaded.meta.savedAt} on ${loaded.meta.node})\n`);
    return 0;
  }
  if (command === 'list') {
    const all = await listCheckpoints(options);
    if (values.json) process.stdout.write(`${JSON.stringify(all)}\n`);
    else for (const c of all) process.stdout.write(`${c.seq}\tepoch ${c.epoch}\t${c.size} bytes\t${c.savedAt}\t${c.node}\t${c.valid ? 'valid' : 'DAMAGED'}\n`);
    return 0;
  }
  throw new ArmoryError('CLI_E_USAGE', command === undefined ? USAGE : `unknown command ${command}\n\n${USAGE}`);
}

checkpointCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(e instanceof ArmoryError ? `armory-checkpoint: ${e.message} [${e.code}]\n` : `armory-checkpoint: ${(e as Error).message}\n`);
    process.exit(e instanceof ArmoryError && e.code === 'CLI_E_USAGE' ? 2 : 1);
  },
);
