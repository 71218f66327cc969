import { ArmoryError } from '../../common/errors/armory-error.js';
import { exitCodeFor, main } from './main.js';

// Exit explicitly, with the code, once main is done: an agent that lets go of its programs still
// holds their process handles, and a command that failed may still hold its connection open.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(e instanceof ArmoryError ? `armory-agent: ${e.message} [${e.code}]\n` : `armory-agent: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(exitCodeFor(e));
  },
);
