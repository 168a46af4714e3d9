/**
 * zod issues → sentences a person can act on: what was expected, what was
 * found (the value itself), and a suggestion where one is likely.
 */
import type { z } from 'zod';
import type { PathPart } from './yaml.js';
import { didYouMean } from './suggest.js';

type Issue = z.core.$ZodIssue;

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return v.length > 40 ? `the string ${JSON.stringify(v.slice(0, 40))}…` : `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return 'a date (quote it to make it a string)';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  null: 'nothing',
};

export function valueAt(value: unknown, path: readonly PathPart[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = Object.hasOwn(v, p) ? (v as Record<string, unknown>)[p as string] : undefined;
  }
  return v;
}

export interface Flat {
  /** Path relative to the validated value. */
  path: PathPart[];
  message: string;
  /** Unknown key names (for unrecognized_keys) — reported one by one at each key. */
  keys?: string[];
  /** The key itself is wrong (position goes to the key, templates in the value do not matter). */
  badKey?: boolean;
  /** The problem is a missing key (position goes to the parent). */
  missing?: boolean;
}

/** Turn one zod issue (possibly a union of alternatives) into a single positioned message. */
export function flattenIssue(issue: Issue, value: unknown, prefix: PathPart[] = []): Flat {
  const path = [...prefix, ...(issue.path as PathPart[])];
  const found = valueAt(value, path);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (found === undefined) return { path, message: `missing required key "${String(path[path.length - 1])}" (${expected})`, missing: true };
      if (issue.expected === 'int' && typeof found === 'number') return { path, message: `expected a whole number, found ${found}` };
      return { path, message: `expected ${expected}, found ${describeValue(found)}` };
    }
    case 'invalid_union': {
      const branches = issue.errors;
      const simple = branches.every((b) => b.length === 1 && b[0].code === 'invalid_type' && b[0].path.length === 0);
      if (simple) {
        if (found === undefined) return { path, message: `missing required key "${String(path[path.length - 1])}"`, missing: true };
        const names = branches.map((b) => EXPECTED[(b[0] as { expected: string }).expected] ?? (b[0] as { expected: string }).expected);
        return { path, message: `expected ${orList([...new Set(names)])}, found ${describeValue(found)}` };
      }
      // The alternative that got furthest is the one the author meant.
      const best = branches
        .filter((b) => b.length > 0)
        .sort((a, b) => Math.max(...b.map((i) => i.path.length)) - Math.max(...a.map((i) => i.path.length)) || a.length - b.length)[0];
      if (best) return flattenIssue(best[0], value, path);
      return { path, message: issue.message };
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => JSON.stringify(v));
      const hint = typeof found === 'string' ? didYouMean(found, issue.values.map(String)) : '';
      return { path, message: `expected one of ${options.join(', ')}, found ${describeValue(found)}${hint}` };
    }
    case 'unrecognized_keys':
      return { path, message: 'unknown keys', keys: issue.keys };
    case 'too_small': {
      if (issue.origin === 'string') return { path, message: `must not be empty` };
      if (issue.origin === 'array') return { path, message: `needs at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}` };
      return { path, message: `must be at least ${issue.minimum}, found ${describeValue(found)}` };
    }
    case 'too_big':
      return { path, message: `must be at most ${issue.maximum}, found ${describeValue(found)}` };
    case 'invalid_format':
      if (issue.message && !issue.message.startsWith('Invalid')) return { path, message: `${issue.message}, found ${describeValue(found)}` };
      return { path, message: `${describeValue(found)} does not have the expected form${issue.format === 'regex' && 'pattern' in issue ? ` ${String(issue.pattern)}` : ''}` };
    case 'invalid_key': {
      const inner = issue.issues[0];
      const key = String(path[path.length - 1]);
      const why = inner ? flattenIssue(inner, key).message.replace(/, found the string .*$/, '') : issue.message;
      return { path, message: `invalid key "${key}": ${why}`, badKey: true };
    }
    case 'custom':
      return { path, message: issue.message };
    default:
      return { path, message: issue.message };
  }
}

/** Message for a single leaf check (used where the path is already known). */
export function zodMessage(issue: Issue, value: unknown, prefix: PathPart[]): string {
  return flattenIssue(issue, value, prefix).message;
}

/** "a, b or c" */
function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
