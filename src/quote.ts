/**
 * The one place a value becomes shell syntax. Every argument that reaches a
 * remote (or local) shell goes through `quote`, so the quoting rules live in
 * one function that is tested with hostile strings.
 */
import { PlumbError } from './errors.js';

/** A value no shell word can carry (a NUL byte): the task cannot be run as written. */
export class ShellQuoteError extends PlumbError {}

// No `=`: `quote` cannot know where its word lands, and as the first word of a
// command `A=b` is an environment assignment, not a program (`PATH=x y` runs y
// with a PATH the value chose).
const SAFE = /^[A-Za-z0-9_@%+:,./-]+$/;

// Words the shell reads as syntax in the program position (POSIX and bash).
// Quoted, each is looked up as an ordinary command name.
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', 'function', 'select', 'time', 'coproc']);

/** Quote one argument for a POSIX shell. NUL cannot be represented in argv, so it is refused. */
export function quote(value: string | number): string {
  const s = String(value);
  if (s.includes('\0')) throw new ShellQuoteError('a NUL byte cannot be passed to a shell command');
  if (s === '') return "''";
  // A leading dash is still a plain word for the shell; commands that must not
  // read it as an option get `--` from their caller.
  if (SAFE.test(s) && !RESERVED.has(s)) return s;
  return "'" + s.replace(/'/g, `'\\''`) + "'";
}

/** Quote every argument and join them into one command line. */
export function command(...args: Array<string | number>): string {
  return args.map(quote).join(' ');
}
