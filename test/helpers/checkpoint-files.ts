import fs from 'node:fs';
import path from 'node:path';

/**
 * What the newest checkpoint a node holds for a service says, read from the files on disk
 * (DIR/checkpoints/SERVICE/*.ckpt: the program's bytes, a JSON trailer, its length and a magic),
 * as a number (the tests' counters checkpoint their count); null when there is none.
 */
export function newestCheckpointCount(stateDir: string, service: string): number | null {
  const dir = path.join(stateDir, 'checkpoints', service);
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ckpt')).sort() : [];
  const last = files.at(-1);
  if (!last) return null;
  const buf = fs.readFileSync(path.join(dir, last));
  const trailer = buf.readUInt32BE(buf.length - 8);
  return Number(buf.subarray(0, buf.length - 8 - trailer).toString());
}
