/**
 * Strict evaluation of parsed expressions against a variable scope. A missing
 * variable or key is an Undefined value that only `default` and `is defined`
 * may look at; any other use is an error naming it. Only own properties of
 * plain data (objects, arrays, strings, numbers, booleans, null) are read, so
 * `__proto__`, `constructor` and friends are just missing keys.
 */
import { quote } from '../quote.js';
import { closest, didYouMean } from '../source/suggest.js';
import { TemplateError } from './errors.js';
import type { Expr } from './expr.js';

export class Undefined {
  constructor(
    /** What was looked up, e.g. `relay.port` or `env.HOME`. */
    readonly name: string,
    readonly message: string,
  ) {}
}

/** What an expression reads variables from. */
export interface Lookup {
  lookup(name: string): unknown;
  names(): Iterable<string>;
  /** Told which environment variable an expression read (`env.NAME`), so errors can name it. */
  readEnv?(name: string): void;
}

/** Marks the `env` object so a missing key says "environment variable X is not set". */
const envObjects = new WeakSet<object>();

export function makeEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  envObjects.add(out);
  return Object.freeze(out);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (Array.isArray(v)) return 'a list';
  if (isPlainObject(v)) return 'a mapping';
  return `a ${typeof v}`;
}

function force(v: unknown): unknown {
  if (v instanceof Undefined) throw new TemplateError(v.message);
  if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') throw new TemplateError('templates can only use plain data');
  return v;
}

export function truthy(v: unknown): boolean {
  v = force(v);
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return Boolean(v);
}

/** How a value appears inside a string (Jinja's spelling for booleans and none). */
export function toText(v: unknown): string {
  v = force(v);
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

function exprName(e: Expr): string {
  switch (e.t) {
    case 'name':
      return e.name;
    case 'attr':
      return `${exprName(e.obj)}.${e.name}`;
    case 'index':
      return `${exprName(e.obj)}[${e.index.t === 'lit' ? JSON.stringify(e.index.v) : '…'}]`;
    default:
      return 'value';
  }
}

function member(obj: unknown, key: unknown, label: string): unknown {
  if (obj instanceof Undefined) return obj;
  if (Array.isArray(obj)) {
    if (typeof key === 'number' && Number.isInteger(key)) {
      const i = key < 0 ? obj.length + key : key;
      return i >= 0 && i < obj.length ? obj[i] : new Undefined(label, `index out of range: ${label} (the list has ${obj.length} items)`);
    }
    throw new TemplateError(`${label}: a list is indexed by a whole number, not ${JSON.stringify(key)}`);
  }
  if (isPlainObject(obj)) {
    const k = String(key);
    if (Object.hasOwn(obj, k)) return obj[k];
    if (envObjects.has(obj)) return new Undefined(label, `environment variable ${k} is not set`);
    return new Undefined(label, `undefined key: ${label}${didYouMean(k, Object.keys(obj))}`);
  }
  if (typeof obj === 'string' && typeof key === 'number' && Number.isInteger(key)) {
    return obj.at(key) ?? new Undefined(label, `index out of range: ${label}`);
  }
  throw new TemplateError(`${label}: ${typeName(force(obj))} has no attributes or items`);
}

/** Pass `obj` through, telling the scope when it is the env object being read at `key`. */
function envRead(obj: unknown, key: unknown, scope: Lookup): unknown {
  if (typeof obj === 'object' && obj !== null && envObjects.has(obj)) scope.readEnv?.(String(key));
  return obj;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

function num(v: unknown, op: string): number {
  if (typeof v !== 'number') throw new TemplateError(`"${op}" needs numbers, found ${typeName(v)} ${JSON.stringify(v)}`);
  return v;
}

function binary(op: string, l: unknown, r: unknown): unknown {
  l = force(l);
  r = force(r);
  switch (op) {
    case '==':
      return equal(l, r);
    case '!=':
      return !equal(l, r);
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (!((typeof l === 'number' && typeof r === 'number') || (typeof l === 'string' && typeof r === 'string'))) {
        throw new TemplateError(`cannot compare ${typeName(l)} with ${typeName(r)} using "${op}"`);
      }
      const a = l as number | string;
      const b = r as number | string;
      return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    }
    case 'in':
    case 'not in': {
      let found: boolean;
      if (typeof r === 'string') found = typeof l === 'string' && r.includes(l);
      else if (Array.isArray(r)) found = r.some((x) => equal(x, l));
      else if (isPlainObject(r)) found = Object.hasOwn(r, String(l));
      else throw new TemplateError(`"${op}" needs a string, list or mapping on its right, found ${typeName(r)}`);
      return op === 'in' ? found : !found;
    }
    case '~':
      return toText(l) + toText(r);
    case '+':
      if (typeof l === 'string' && typeof r === 'string') return l + r;
      if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
      return num(l, op) + num(r, op);
    case '-':
      return num(l, op) - num(r, op);
    case '*':
      return num(l, op) * num(r, op);
    case '/':
      return num(l, op) / num(r, op);
    case '%':
      return num(l, op) % num(r, op);
  }
  throw new TemplateError(`unknown operator ${op}`);
}

type Filter = (value: unknown, args: unknown[]) => unknown;

function str(v: unknown, filter: string): string {
  v = force(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return toText(v);
  throw new TemplateError(`filter ${filter} needs a string, found ${typeName(v)}`);
}

const FILTERS: Record<string, Filter> = {
  // default(value, boolean=false): Jinja replaces only undefined values unless the second argument is true.
  default: (v, [fallback = '', orFalsy = false]) => (v instanceof Undefined || (orFalsy === true && !truthy(v)) ? fallback : v),
  lower: (v) => str(v, 'lower').toLowerCase(),
  upper: (v) => str(v, 'upper').toUpperCase(),
  trim: (v) => str(v, 'trim').trim(),
  quote: (v) => quote(str(v, 'quote')),
  b64encode: (v) => Buffer.from(str(v, 'b64encode'), 'utf8').toString('base64'),
  to_json: (v) => JSON.stringify(force(v) ?? null),
  join: (v, [sep = '']) => {
    v = force(v);
    if (!Array.isArray(v)) throw new TemplateError(`filter join needs a list, found ${typeName(v)}`);
    return v.map(toText).join(toText(sep));
  },
  length: (v) => {
    v = force(v);
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (isPlainObject(v)) return Object.keys(v).length;
    throw new TemplateError(`filter length needs a string, list or mapping, found ${typeName(v)}`);
  },
  int: (v) => {
    v = force(v);
    const n = typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
    if (Number.isNaN(n)) throw new TemplateError(`filter int cannot convert ${JSON.stringify(v)} to a whole number`);
    return n;
  },
  string: (v) => toText(v),
  bool: (v) => {
    v = force(v);
    if (typeof v === 'string') return ['yes', 'true', 'on', '1'].includes(v.trim().toLowerCase());
    return truthy(v);
  },
};
const filterNames = Object.keys(FILTERS);

const TESTS: Record<string, (v: unknown) => boolean> = {
  defined: (v) => !(v instanceof Undefined),
  undefined: (v) => v instanceof Undefined,
  none: (v) => force(v) === null,
  string: (v) => typeof force(v) === 'string',
  number: (v) => typeof force(v) === 'number',
};

export function evaluate(e: Expr, scope: Lookup): unknown {
  switch (e.t) {
    case 'lit':
      return e.v;
    case 'list':
      return e.items.map((x) => force(evaluate(x, scope)));
    case 'name':
      return scope.lookup(e.name);
    case 'attr':
      return member(envRead(evaluate(e.obj, scope), e.name, scope), e.name, exprName(e));
    case 'index': {
      const obj = evaluate(e.obj, scope);
      const key = force(evaluate(e.index, scope));
      return member(envRead(obj, key, scope), key, exprName(e));
    }
    case 'filter': {
      const f = Object.hasOwn(FILTERS, e.name) ? FILTERS[e.name] : undefined;
      if (!f) throw new TemplateError(`unknown filter "${e.name}"${didYouMean(e.name, filterNames)}; filters: ${filterNames.join(', ')}`);
      return f(
        evaluate(e.arg, scope),
        e.args.map((a) => force(evaluate(a, scope))),
      );
    }
    case 'test': {
      const t = Object.hasOwn(TESTS, e.name) ? TESTS[e.name] : undefined;
      if (!t) throw new TemplateError(`unknown test "is ${e.name}"; tests: ${Object.keys(TESTS).join(', ')}`);
      const r = t(evaluate(e.arg, scope));
      return e.negate ? !r : r;
    }
    case 'not':
      return !truthy(evaluate(e.e, scope));
    case 'neg':
      return -num(force(evaluate(e.e, scope)), '-');
    case 'and': {
      const l = evaluate(e.l, scope);
      return truthy(l) ? evaluate(e.r, scope) : l;
    }
    case 'or': {
      const l = evaluate(e.l, scope);
      return truthy(l) ? l : evaluate(e.r, scope);
    }
    case 'bin':
      return binary(e.op, evaluate(e.l, scope), evaluate(e.r, scope));
    case 'cond':
      if (truthy(evaluate(e.test, scope))) return evaluate(e.then, scope);
      return e.else ? evaluate(e.else, scope) : new Undefined('value', 'the `if` expression has no `else` and its condition is false');
  }
}

/** Issue 13: facts exist when the play gathers them; an undefined one is off, outside gather_subset, or one plumb does not read. */
const NO_FACT = 'the play does not have it (gather_facts: false, not in gather_subset, or not a fact plumb gathers)';

/** The message for a variable that is not defined, with a suggestion. */
export function undefinedVariable(name: string, known: Iterable<string>): Undefined {
  // Say why a fact is missing rather than suggest a look-alike name.
  if (/^ansible_/.test(name) && !/^ansible_(host|port|user|password|connection|become|ssh_|private_key_file|python_interpreter)/.test(name))
    return new Undefined(name, `undefined variable "${name}": it is an Ansible fact, and ${NO_FACT}`);
  const near = closest(name, known, 1);
  return new Undefined(name, `undefined variable "${name}"${near.length ? ` (did you mean "${near[0]}"?)` : ''}`);
}

export { force };
