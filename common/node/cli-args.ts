import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ArmoryError } from '../errors/armory-error.js';

/** Parses a command line strictly; anything unknown is a CLI_E_USAGE error that shows the usage. */
export function parseCommandLine<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, usageText: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new ArmoryError('CLI_E_USAGE', `${(e as Error).message}\n\n${usageText}`);
  }
}

/** A whole-number flag within bounds, or the default when absent. */
export function intFlag(value: string | undefined, name: string, dflt: number, min: number, max: number, usageText: string): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ArmoryError('CLI_E_USAGE', `--${name} takes a whole number from ${min} to ${max}\n\n${usageText}`);
  return n;
}
