/** Jinja2's tests and Ansible's (`is version`, `is match`, task-result tests such as `is changed`). */
import { TemplateError } from './errors.js';
import type { Evaluation } from './evaluate.js';
import { contains } from './evaluate.js';
import { pyRegex } from './pyregex.js';
import { Callable, compare, equal, isFloat, isNumber, isPlainObject, numberOf, toText, truthy, Undefined } from './py.js';
import { compareVersions } from './version.js';

type Test = (v: unknown, args: unknown[], ev: Evaluation, kwargs: Record<string, unknown>) => boolean;

function regexTest(kind: 'match' | 'search' | 'regex'): Test {
  return (v, [pattern, ignorecase = false, multiline = false], _ev, kw = {}) => {
    ignorecase = kw.ignorecase ?? ignorecase;
    multiline = kw.multiline ?? multiline;
    const flags = (truthy(ignorecase ?? false) ? 'i' : '') + (truthy(multiline ?? false) ? 'm' : '');
    const re = pyRegex(toText(pattern), flags);
    const text = toText(v);
    if (kind === 'match') return new RegExp(`^(?:${re.source})`, re.flags).test(text);
    return re.test(text);
  };
}

/** A registered task result (a dict with changed/failed/skipped keys). */
function result(v: unknown, test: string): Record<string, unknown> {
  if (!isPlainObject(v)) throw new TemplateError(`the "${test}" test needs a registered task result, found ${toText(v)}`);
  return v;
}
const flag = (r: Record<string, unknown>, k: string) => Object.hasOwn(r, k) && truthy(r[k]);
const failed: Test = (v) => flag(result(v, 'failed'), 'failed');
const succeeded: Test = (v) => !flag(result(v, 'succeeded'), 'failed');

/** Ansible's truthy/falsy(convert_bool=true): 'no', 'off', 'false' are false. */
function boolish(v: unknown, convert: unknown): boolean {
  if (truthy(convert) && typeof v === 'string' && /^(yes|no|on|off|true|false|y|n|t|f|1|0)$/i.test(v.trim())) return /^(yes|on|true|y|t|1)$/i.test(v.trim());
  return truthy(v);
}

const compareTest =
  (op: (c: number) => boolean): Test =>
  (v, [other]) =>
    op(compare(v, other));

export const TESTS: Record<string, Test> = {
  defined: (v) => !(v instanceof Undefined),
  undefined: (v) => v instanceof Undefined,
  none: (v) => v === null,
  string: (v) => typeof v === 'string',
  number: (v) => isNumber(v) || typeof v === 'boolean',
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => isFloat(v),
  boolean: (v) => typeof v === 'boolean',
  true: (v) => v === true,
  false: (v) => v === false,
  mapping: (v) => isPlainObject(v),
  iterable: (v) => Array.isArray(v) || isPlainObject(v) || typeof v === 'string',
  sequence: (v) => Array.isArray(v) || isPlainObject(v) || typeof v === 'string',
  callable: (v) => v instanceof Callable,
  odd: (v) => numberOf(v) % 2 !== 0,
  even: (v) => numberOf(v) % 2 === 0,
  divisibleby: (v, [n]) => numberOf(v) % numberOf(n) === 0,
  eq: (v, [o]) => equal(v, o),
  equalto: (v, [o]) => equal(v, o),
  '==': (v, [o]) => equal(v, o),
  '<': compareTest((c) => c < 0),
  '<=': compareTest((c) => c <= 0),
  '>': compareTest((c) => c > 0),
  '>=': compareTest((c) => c >= 0),
  ne: (v, [o]) => !equal(v, o),
  '!=': (v, [o]) => !equal(v, o),
  lt: compareTest((c) => c < 0),
  lessthan: compareTest((c) => c < 0),
  le: compareTest((c) => c <= 0),
  gt: compareTest((c) => c > 0),
  greaterthan: compareTest((c) => c > 0),
  ge: compareTest((c) => c >= 0),
  in: (v, [seq]) => contains(seq, v),
  contains: (v, [x]) => contains(v, x),
  sameas: (v, [o]) => v === o,
  lower: (v) => toText(v) === toText(v).toLowerCase(),
  upper: (v) => toText(v) === toText(v).toUpperCase(),
  escaped: () => false,
  match: regexTest('match'),
  search: regexTest('search'),
  regex: (v, args, ev, kw) => {
    const [pattern, ignorecase, multiline, match_type = kw.match_type] = args;
    return regexTest(match_type === 'match' ? 'match' : 'search')(v, [pattern, ignorecase ?? false, multiline ?? false], ev, kw);
  },
  version: (v, [other, op = 'eq', strict = false], _ev, kw) =>
    compareVersions(toText(v), toText(other), toText(kw.operator ?? op), truthy(kw.strict ?? strict), kw.version_type === undefined ? undefined : toText(kw.version_type)),
  version_compare: (v, [other, op = 'eq', strict = false], _ev, kw) => compareVersions(toText(v), toText(other), toText(kw.operator ?? op), truthy(kw.strict ?? strict)),
  truthy: (v, [convert = false], _ev, kw) => boolish(v, kw.convert_bool ?? convert),
  falsy: (v, [convert = false], _ev, kw) => !boolish(v, kw.convert_bool ?? convert),
  subset: (v, [sup]) => Array.isArray(v) && Array.isArray(sup) && v.every((x) => sup.some((y) => equal(x, y))),
  superset: (v, [sub]) => Array.isArray(v) && Array.isArray(sub) && sub.every((x) => v.some((y) => equal(x, y))),
  any: (v) => Array.isArray(v) && v.some((x) => truthy(x)),
  all: (v) => Array.isArray(v) && v.every((x) => truthy(x)),
  nan: (v) => Number.isNaN(numberOf(v)),
  abs: (v) => toText(v).startsWith('/'),
  // Task results (a registered variable): Ansible's tests read its keys.
  failed,
  failure: failed,
  succeeded,
  success: succeeded,
  successful: succeeded,
  changed: (v) => flag(result(v, 'changed'), 'changed'),
  change: (v) => flag(result(v, 'changed'), 'changed'),
  skipped: (v) => flag(result(v, 'skipped'), 'skipped'),
  skip: (v) => flag(result(v, 'skipped'), 'skipped'),
  finished: (v) => {
    const r = result(v, 'finished');
    return Object.hasOwn(r, 'finished') ? truthy(r.finished) : true;
  },
  unreachable: (v) => flag(result(v, 'unreachable'), 'unreachable'),
  reachable: (v) => !flag(result(v, 'reachable'), 'unreachable'),
};
for (const [k, v] of Object.entries(TESTS)) if (!k.includes('.') && /^[a-z]/.test(k)) TESTS[`ansible.builtin.${k}`] = v;

export const testNames = Object.keys(TESTS).filter((n) => !n.startsWith('ansible.'));
