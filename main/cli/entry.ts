import { ArmoryError } from '../../common/errors/armory-error.js';
import { exitCodeFor, main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(e instanceof ArmoryError ? `armory: ${e.message} [${e.code}]\n` : `armory: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(exitCodeFor(e));
  },
);
