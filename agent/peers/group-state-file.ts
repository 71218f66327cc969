import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../common/node/fsync.js';
import type { GroupDurableState } from './group-member.js';

const schema = z.strictObject({
  inc: z.number().int().min(0),
  epoch: z.number().int().min(0),
  granted: z.strictObject({ to: z.string().max(63), epoch: z.number().int().min(0) }).nullable(),
});

/**
 * The durable state of one group on this node (incarnation, epoch in force, last grant), one small
 * file per group written with temp + fsync + rename + fsync of the folder. A file that cannot be
 * read is a hard error for the group: starting again from epoch 0 could grant an epoch twice.
 */
export class GroupStateFile {
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  static for(dir: string, group: string): GroupStateFile {
    return new GroupStateFile(path.join(dir, `${group}.json`));
  }

  /** Reads the state and raises the incarnation durably (every start is a new incarnation). */
  async open(): Promise<GroupDurableState> {
    let stored: GroupDurableState = { inc: 0, epoch: 0, granted: null };
    if (fs.existsSync(this.file)) stored = schema.parse(JSON.parse(fs.readFileSync(this.file, 'utf8')));
    const next = { ...stored, inc: stored.inc + 1 };
    await this.write(next);
    return next;
  }

  /** Writes land in the order they were asked for, so that an older state never overwrites a newer one. */
  write(state: GroupDurableState): Promise<void> {
    const text = `${JSON.stringify(state)}\n`;
    const next = this.chain.then(async () => {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.file, text, 0o600);
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
