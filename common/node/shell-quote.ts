/**
 * Quotes one word for a POSIX shell: single quotes, with each embedded single quote written as
 * `'\''`. Everything Armory runs on a host over SSH goes through this, never through string
 * concatenation of raw values.
 */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new TypeError('a shell word cannot hold a NUL byte');
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quotes each word and joins them with spaces: a command line for `sh -c`. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
