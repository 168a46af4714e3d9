/**
 * Python's data model as Jinja2 sees it, on plain JavaScript data: str is
 * string, int is number, a whole-valued float is PyFloat, None is null, list
 * is array, dict is a plain object. Printing (str/repr), truthiness, equality
 * and ordering follow Python, so templates render what Jinja2 renders.
 * Anything else (functions, class instances) is never data in a template.
 */
import { PyFloat } from './expr.js';
import { TemplateError } from './errors.js';

export { PyFloat };

/** A missing variable, key or item: only `default`, `is defined` and friends may look at it. */
export class Undefined {
  private text?: string;
  constructor(
    /** What was looked up, e.g. `relay.port` or `env.HOME`. */
    readonly name: string,
    /** A function when the message costs something (a "did you mean" search): most undefined values are only tested, never shown. */
    private readonly describe: string | (() => string),
    /** Offset in the template where it was read. */
    readonly at?: number,
  ) {}

  get message(): string {
    this.text ??= typeof this.describe === 'string' ? this.describe : this.describe();
    return this.text;
  }

  /** The same undefined value read at another place (or under another name), its message still unbuilt. */
  moved(name: string, at: number | undefined): Undefined {
    return new Undefined(name, () => this.message, at);
  }
}

/** A function a template may call: a macro, `range`, `lookup`, a string method. plumb's own code only. */
export class Callable {
  constructor(
    readonly name: string,
    readonly call: (args: unknown[], kwargs: Record<string, unknown>) => unknown,
    /** Data a template may read from it (a macro's name and arguments). */
    readonly attrs: Record<string, unknown> = {},
  ) {}
}

/** Arrays that are Python tuples (printed with parentheses). */
export const tuples = new WeakSet<unknown[]>();
export function tuple(items: unknown[]): unknown[] {
  tuples.add(items);
  return items;
}

/** Named tuples (groupby's `grouper`/`list`): field names readable as attributes. */
export const tupleFields = new WeakMap<unknown[], string[]>();
export function namedTuple(items: unknown[], fields: string[]): unknown[] {
  tupleFields.set(items, fields);
  return tuple(items);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function isNumber(v: unknown): v is number | PyFloat {
  return typeof v === 'number' || v instanceof PyFloat;
}

/** The number of an int, float or bool (Python's bool is an int). */
export function numberOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new TemplateError(`expected a number, found ${typeName(v)}`);
}

export function isFloat(v: unknown): boolean {
  return v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
}

/** A float result: whole values keep their float-ness. */
export function float(n: number): number | PyFloat {
  return Number.isInteger(n) ? new PyFloat(n) : n;
}

export function typeName(v: unknown): string {
  if (v instanceof Undefined) return 'an undefined value';
  if (v === null || v === undefined) return 'none';
  if (Array.isArray(v)) return tuples.has(v) ? 'a tuple' : 'a list';
  if (isPlainObject(v)) return 'a mapping';
  if (v instanceof Callable) return 'a function';
  if (isNumber(v)) return isFloat(v) ? 'a float' : 'an integer';
  return `a ${typeof v}`;
}

/** The value, or the error an undefined value stands for. */
export function force(v: unknown): unknown {
  if (v instanceof Undefined) {
    const err = new TemplateError(v.message);
    if (v.at !== undefined) err.atOffset(v.at);
    throw err;
  }
  if (v === undefined) return null;
  if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') throw new TemplateError('templates can only use plain data');
  return v;
}

export function truthy(v: unknown): boolean {
  v = force(v);
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  if (v instanceof PyFloat) return v.v !== 0;
  if (v instanceof Callable) return true;
  return Boolean(v);
}

function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  const abs = Math.abs(n);
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    const [m, e] = n.toExponential().split('e');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (Object.is(n, -0)) return '-0.0';
  const s = String(n);
  return Number.isInteger(n) ? `${s}.0` : s;
}

/** Python's str(): how a value appears in template output. */
export function toText(v: unknown): string {
  v = force(v);
  if (typeof v === 'string') return v;
  return repr(v);
}

/** Python's repr(): how a value appears inside a printed list or dict. */
export function repr(v: unknown): string {
  v = force(v);
  if (typeof v === 'string') return strRepr(v);
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v instanceof PyFloat) return floatRepr(v.v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floatRepr(v);
  if (Array.isArray(v)) {
    const inner = v.map(repr).join(', ');
    return tuples.has(v) ? (v.length === 1 ? `(${inner},)` : `(${inner})`) : `[${inner}]`;
  }
  if (isPlainObject(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${strRepr(k)}: ${repr(x)}`)
      .join(', ')}}`;
  if (v instanceof Callable) return `<function ${v.name}>`;
  throw new TemplateError('templates can only use plain data');
}

function strRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === q || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\x${c.toString(16)}`;
    else out += ch;
  }
  return out + q;
}

export function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((isNumber(a) || typeof a === 'boolean') && (isNumber(b) || typeof b === 'boolean')) return numberOf(a) === numberOf(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

/** Python's ordering: numbers with numbers, strings with strings, lists item by item. */
export function compare(a: unknown, b: unknown, op = '<'): number {
  a = force(a);
  b = force(b);
  if ((isNumber(a) || typeof a === 'boolean') && (isNumber(b) || typeof b === 'boolean')) return numberOf(a) - numberOf(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!equal(a[i], b[i])) return compare(a[i], b[i], op);
    }
    return a.length - b.length;
  }
  throw new TemplateError(`"${op}" is not supported between ${typeName(a)} and ${typeName(b)}`);
}

/** Deep copy into plain JavaScript data: whole floats become numbers (a native argument value). */
export function plain(v: unknown): unknown {
  if (v instanceof PyFloat) return v.v;
  if (Array.isArray(v)) return v.map(plain);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: plain(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

/** A fresh dict that keeps a key named __proto__ as data. */
export function dict(entries: Iterable<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/** What `for x in value` iterates: list items, dict keys, string characters. */
export function iterate(v: unknown): unknown[] {
  v = force(v);
  if (Array.isArray(v)) return v;
  if (isPlainObject(v)) return Object.keys(v);
  if (typeof v === 'string') return [...v];
  throw new TemplateError(`${typeName(v)} is not iterable`);
}
