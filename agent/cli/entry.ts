import { ArmoryError } from '../../common/errors/armory-error.js';
import { exitCodeFor, main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly: an agent that lets go of its programs still holds their process handles.
    if (process.argv[2] === 'run' || process.argv[2] === 'keeper') process.exit(code);
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(e instanceof ArmoryError ? `armory-agent: ${e.message} [${e.code}]\n` : `armory-agent: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = exitCodeFor(e);
  },
);
