/**
 * The one place a value becomes shell syntax. Every argument that reaches a
 * remote (or local) shell goes through `quote`, so the quoting rules live in
 * one function that is tested with hostile strings.
 */

export class ShellQuoteError extends Error {}

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one argument for a POSIX shell. NUL cannot be represented in argv, so it is refused. */
export function quote(value: string | number): string {
  const s = String(value);
  if (s.includes('\0')) throw new ShellQuoteError('a NUL byte cannot be passed to a shell command');
  if (s === '') return "''";
  // A leading dash is still a plain word for the shell; commands that must not
  // read it as an option get `--` from their caller.
  if (SAFE.test(s)) return s;
  return "'" + s.replace(/'/g, `'\\''`) + "'";
}

/** Quote every argument and join them into one command line. */
export function command(...args: Array<string | number>): string {
  return args.map(quote).join(' ');
}
