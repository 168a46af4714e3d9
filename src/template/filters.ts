/**
 * Jinja2's built-in filters and the Ansible filters users reach for, with
 * the semantics of Jinja2 3.1 and Ansible 2.14 (`int` of junk is 0,
 * `default(x, true)` also replaces falsy values, `to_json` spaces as Python's
 * json.dumps, `regex_replace` takes Python's `\1`, `combine` merges
 * recursively on request, …). Every filter works on plain data only.
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { quote } from '../quote.js';
import { shaCrypt } from './crypt.js';
import { pyJson, pyYaml } from './dump.js';
import { TemplateError } from './errors.js';
import { owned, type Evaluation } from './evaluate.js';
import { pySplit } from './methods.js';
import {
  compare,
  dict,
  equal,
  float,
  force,
  isFloat,
  isNumber,
  isPlainObject,
  iterate,
  numberOf,
  PyFloat,
  namedTuple,
  repr,
  toText,
  truthy,
  tuple,
  typeName,
  Undefined,
} from './py.js';
import { pySubn } from '../py-replacement.js';
import { pyRegex } from './pyregex.js';

type Filter = (v: unknown, args: unknown[], kwargs: Record<string, unknown>, ev: Evaluation) => unknown;

/** Filters that see an undefined value instead of failing on it. */
export const ACCEPTS_UNDEFINED = new Set(['default', 'd', 'mandatory', 'ansible.builtin.default', 'ansible.builtin.mandatory']);

function str(v: unknown): string {
  return typeof v === 'string' ? v : toText(v);
}

function list(v: unknown): unknown[] {
  return iterate(v);
}

function made<T extends object>(v: T): T {
  owned.add(v);
  return v;
}

/** `arg(args, kwargs, index, name, default)`: a positional or keyword argument. */
function arg(args: unknown[], kwargs: Record<string, unknown>, i: number, name: string, def?: unknown): unknown {
  if (i < args.length) return args[i];
  if (Object.hasOwn(kwargs, name)) return kwargs[name];
  return def;
}

/** Jinja's attribute getter: `a.b.0` reads nested keys and list items. */
function attribute(item: unknown, path: string): unknown {
  let cur = item;
  for (const part of path.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else if (isPlainObject(cur) && Object.hasOwn(cur, part)) cur = cur[part];
    else return new Undefined(path, `undefined attribute "${path}" of ${repr(item)}`);
  }
  return cur;
}

function sortKey(v: unknown, caseSensitive: boolean): unknown {
  return !caseSensitive && typeof v === 'string' ? v.toLowerCase() : v;
}

function toInt(v: unknown, def: unknown = 0, base = 10): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (isNumber(v)) return Math.trunc(numberOf(v));
  if (typeof v === 'string') {
    const t = v.trim().replace(/_/g, '');
    if (base === 10 && /^[-+]?\d+$/.test(t)) return parseInt(t, 10);
    if (base !== 10) {
      const n = parseInt(t.replace(/^0[xob]/i, ''), base);
      if (!Number.isNaN(n)) return n;
    }
    if (base === 10 && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Math.trunc(Number(t));
  }
  return def;
}

function toFloat(v: unknown, def: unknown = new PyFloat(0)): unknown {
  if (typeof v === 'boolean') return float(v ? 1 : 0);
  if (isNumber(v)) return float(numberOf(v));
  if (typeof v === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) return float(Number(v));
  if (typeof v === 'string' && /^\s*[-+]?(inf|infinity|nan)\s*$/i.test(v))
    return Number(
      v
        .trim()
        .replace(/inf(inity)?/i, 'Infinity')
        .replace(/nan/i, 'NaN'),
    );
  return def;
}

function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === null) return false;
  if (typeof v === 'string') return ['yes', 'on', '1', 'true', 't', 'y'].includes(v.trim().toLowerCase());
  if (isNumber(v)) return numberOf(v) === 1;
  return false;
}

function unique(items: unknown[], caseSensitive = true, attr?: string): unknown[] {
  const out: unknown[] = [];
  const keys: unknown[] = [];
  for (const x of items) {
    const k = sortKey(attr ? attribute(x, attr) : x, caseSensitive);
    if (!keys.some((y) => equal(y, k))) {
      keys.push(k);
      out.push(x);
    }
  }
  return made(out);
}

function flatten(v: unknown[], levels?: number, skipNulls = true): unknown[] {
  const out: unknown[] = [];
  for (const x of v) {
    if (Array.isArray(x) && (levels === undefined || levels > 0)) out.push(...flatten(x, levels === undefined ? undefined : levels - 1, skipNulls));
    else if (!(skipNulls && (x === null || x === 'None'))) out.push(x);
  }
  return out;
}

function combine(a: Record<string, unknown>, b: Record<string, unknown>, recursive: boolean, listMerge: string): Record<string, unknown> {
  const out = dict(Object.entries(a));
  for (const [k, v] of Object.entries(b)) {
    const old = Object.hasOwn(out, k) ? out[k] : undefined;
    let value = v;
    if (recursive && isPlainObject(old) && isPlainObject(v)) value = combine(old, v, recursive, listMerge);
    else if (Array.isArray(old) && Array.isArray(v)) value = mergeLists(old, v, listMerge);
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function mergeLists(old: unknown[], v: unknown[], how: string): unknown[] {
  switch (how) {
    case 'replace':
      return v;
    case 'keep':
      return old;
    case 'append':
      return [...old, ...v];
    case 'prepend':
      return [...v, ...old];
    case 'append_rp':
      return [...old.filter((x) => !v.some((y) => equal(x, y))), ...v];
    case 'prepend_rp':
      return [...v, ...old.filter((x) => !v.some((y) => equal(x, y)))];
    default:
      throw new TemplateError(`combine: list_merge must be one of replace, keep, append, prepend, append_rp, prepend_rp, not "${how}"`);
  }
}

/** select/reject/selectattr/rejectattr: Jinja's test-based filtering. */
function selecting(byAttr: boolean, keep: boolean): Filter {
  return (v, args, _kw, ev) => {
    const [first, ...rest] = args;
    const attr = byAttr ? str(first) : undefined;
    const [testName, ...testArgs] = byAttr ? rest : args;
    return made(
      list(v).filter((item) => {
        const value = attr !== undefined ? attribute(item, attr) : item;
        const ok = testName === undefined ? truthy(value) : ev.test(str(testName), value, testArgs);
        return ok === keep;
      }),
    );
  };
}

function regexFlags(kwargs: Record<string, unknown>, args: unknown[], at: number): string {
  const ignorecase = arg(args, kwargs, at, 'ignorecase', false);
  const multiline = arg(args, kwargs, at + 1, 'multiline', false);
  return (truthy(ignorecase) ? 'i' : '') + (truthy(multiline) ? 'm' : '');
}

function digest(algo: string, text: string): string {
  const known = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'blake2b', 'blake2s'];
  if (!known.includes(algo)) throw new TemplateError(`hash: unknown algorithm "${algo}"; use one of ${known.join(', ')}`);
  return createHash(algo === 'blake2b' ? 'blake2b512' : algo === 'blake2s' ? 'blake2s256' : algo)
    .update(text, 'utf8')
    .digest('hex');
}

function product(lists: unknown[][]): unknown[][] {
  return lists.reduce<unknown[][]>((acc, l) => acc.flatMap((prefix) => l.map((x) => [...prefix, x])), [[]]);
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function round(v: unknown, precision: unknown, method: unknown): unknown {
  const p = numberOf(precision ?? 0);
  const n = numberOf(v);
  const f = 10 ** p;
  const m = str(method ?? 'common');
  let r: number;
  if (m === 'ceil') r = Math.ceil(n * f) / f;
  else if (m === 'floor') r = Math.floor(n * f) / f;
  else if (m === 'common') r = roundHalfEven(n * f) / f;
  else throw new TemplateError('round: method must be common, ceil or floor');
  return float(r);
}

function minMax(pick: (c: number) => boolean): Filter {
  return (v, args, kw) => {
    const items = list(v);
    const attr = kw.attribute === undefined ? undefined : str(kw.attribute);
    const cs = truthy(kw.case_sensitive ?? false);
    if (!items.length) return new Undefined('value', 'min/max of an empty sequence');
    return items.reduce((best, x) => (pick(compare(sortKey(attr ? attribute(x, attr) : x, cs), sortKey(attr ? attribute(best, attr) : best, cs))) ? x : best));
  };
}

function indent(v: unknown, args: unknown[], kw: Record<string, unknown>): string {
  const width = arg(args, kw, 0, 'width', 4);
  const pad = typeof width === 'string' ? width : ' '.repeat(numberOf(width));
  const first = truthy(arg(args, kw, 1, 'first', false));
  const blank = truthy(arg(args, kw, 2, 'blank', false));
  const lines = str(v).split('\n');
  return lines.map((l, i) => ((i === 0 && !first) || (!blank && !l.trim()) ? l : pad + l)).join('\n');
}

/** Python %-formatting for the `format` filter: %s %r %d %i %f %x %o %%. */
export function percentFormat(fmt: string, args: unknown[]): string {
  let i = 0;
  return fmt.replace(
    /%(?:\(([^)]+)\))?([-+ 0#]*)(\d+)?(?:\.(\d+))?([sdirfFxXoeEg%])/g,
    (m, key: string | undefined, flags: string, width: string | undefined, prec: string | undefined, conv: string) => {
      if (conv === '%') return '%';
      const v = key !== undefined && isPlainObject(args[0]) ? args[0][key] : args[i++];
      let out: string;
      switch (conv) {
        case 's':
          out = toText(v);
          break;
        case 'r':
          out = repr(v);
          break;
        case 'd':
        case 'i':
          out = String(Math.trunc(numberOf(v)));
          break;
        case 'f':
        case 'F':
          out = numberOf(v).toFixed(prec === undefined ? 6 : Number(prec));
          break;
        case 'x':
          out = Math.trunc(numberOf(v)).toString(16);
          break;
        case 'X':
          out = Math.trunc(numberOf(v)).toString(16).toUpperCase();
          break;
        case 'o':
          out = Math.trunc(numberOf(v)).toString(8);
          break;
        default:
          out = String(numberOf(v));
      }
      if (prec !== undefined && conv === 's') out = out.slice(0, Number(prec));
      if (width) out = flags.includes('-') ? out.padEnd(Number(width)) : out.padStart(Number(width), flags.includes('0') && conv !== 's' ? '0' : ' ');
      return out;
    },
  );
}

function items2dict(v: unknown, keyName = 'key', valueName = 'value'): Record<string, unknown> {
  return made(
    dict(
      list(v).map((x) => {
        if (!isPlainObject(x) || !Object.hasOwn(x, keyName) || !Object.hasOwn(x, valueName)) throw new TemplateError(`items2dict: each item needs "${keyName}" and "${valueName}"`);
        return [str(x[keyName]), x[valueName]];
      }),
    ),
  );
}

function truncate(v: unknown, args: unknown[], kw: Record<string, unknown>): string {
  const s = str(v);
  const length = numberOf(arg(args, kw, 0, 'length', 255));
  const killwords = truthy(arg(args, kw, 1, 'killwords', false));
  const end = str(arg(args, kw, 2, 'end', '...'));
  const leeway = numberOf(arg(args, kw, 3, 'leeway', 5));
  if (s.length <= length + leeway) return s;
  if (killwords) return s.slice(0, length - end.length) + end;
  const cut = s.slice(0, length - end.length);
  const space = cut.lastIndexOf(' ');
  return (space >= 0 ? cut.slice(0, space) : cut) + end;
}

function groupby(v: unknown, args: unknown[], kw: Record<string, unknown>): unknown[] {
  const attr = str(arg(args, kw, 0, 'attribute'));
  const def = arg(args, kw, 1, 'default');
  const cs = truthy(kw.case_sensitive ?? false);
  const keyed = list(v).map((x) => {
    let k = attribute(x, attr);
    if (k instanceof Undefined) k = def === undefined ? force(k) : def;
    return { k: sortKey(k, cs), raw: k, x };
  });
  keyed.sort((a, b) => compare(a.k, b.k));
  const groups: Array<{ k: unknown; raw: unknown; items: unknown[] }> = [];
  for (const e of keyed) {
    const last = groups.at(-1);
    if (last && equal(last.k, e.k)) last.items.push(e.x);
    else groups.push({ k: e.k, raw: e.raw, items: [e.x] });
  }
  return made(groups.map((g) => namedTuple([g.raw, g.items], ['grouper', 'list'])));
}

function base64Decode(v: unknown): string {
  const s = typeof v === 'string' ? v.replace(/\s+/g, '') : '';
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(s) || s.replace(/=+$/, '').length % 4 === 1) throw new TemplateError(`b64decode: not base64: ${repr(v)}`);
  return Buffer.from(s, 'base64').toString('utf8');
}

/** Python's uuid.uuid5(namespace, name). */
function uuid5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function fromYaml(v: unknown): unknown {
  try {
    return parseYaml(str(v), { version: '1.1' }) ?? null;
  } catch (err) {
    throw new TemplateError(`from_yaml: ${(err as Error).message.split('\n')[0]}`);
  }
}

function fromJson(v: unknown): unknown {
  try {
    // JSON.parse with a reviver-free parse; __proto__ keys stay data because JSON.parse defines them.
    return JSON.parse(str(v));
  } catch (err) {
    throw new TemplateError(`from_json: ${(err as Error).message}`);
  }
}

function sortFilter(v: unknown, args: unknown[], kw: Record<string, unknown>): unknown[] {
  const reverse = truthy(arg(args, kw, 0, 'reverse', false));
  const cs = truthy(arg(args, kw, 1, 'case_sensitive', false));
  const attr = arg(args, kw, 2, 'attribute');
  const attrs =
    attr === undefined || attr === null
      ? []
      : str(attr)
          .split(',')
          .map((a) => a.trim());
  const key = (x: unknown) => (attrs.length ? attrs.map((a) => sortKey(force(attribute(x, a)), cs)) : [sortKey(x, cs)]);
  const out = [...list(v)].sort((a, b) => compare(key(a), key(b)));
  return made(reverse ? out.reverse() : out);
}

function mapFilter(v: unknown, args: unknown[], kw: Record<string, unknown>, ev: Evaluation): unknown[] {
  const items = list(v);
  if (kw.attribute !== undefined) {
    const attr = str(kw.attribute);
    // A missing attribute stays undefined: `select('defined')` may drop it, printing it fails.
    return made(
      items.map((x) => {
        const r = attribute(x, attr);
        return r instanceof Undefined && Object.hasOwn(kw, 'default') ? kw.default : r;
      }),
    );
  }
  const [name, ...rest] = args;
  if (name === undefined) return made([...items]);
  return made(items.map((x) => ev.applyFilter(str(name), x, rest, kw)));
}

function pathFilter(fn: (p: string) => string): Filter {
  return (v) => fn(str(v));
}

export const FILTERS: Record<string, Filter> = {
  // Jinja2 built-ins
  abs: (v) => (v instanceof PyFloat ? new PyFloat(Math.abs(v.v)) : Math.abs(numberOf(v))),
  batch: (v, [n, fill]) => {
    const items = list(v);
    const size = numberOf(n);
    const out: unknown[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    if (fill !== undefined && out.length) while (out[out.length - 1].length < size) out[out.length - 1].push(fill);
    return made(out);
  },
  capitalize: (v) => {
    const s = str(v);
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  },
  center: (v, [w = 80]) => {
    const s = str(v);
    const total = numberOf(w) - s.length;
    if (total <= 0) return s;
    const left = Math.floor(total / 2) + (total % 2 && numberOf(w) % 2 ? 1 : 0);
    return ' '.repeat(left) + s + ' '.repeat(total - left);
  },
  default: (v, args, kw) => {
    const fallback = arg(args, kw, 0, 'default_value', '');
    const orFalsy = truthy(arg(args, kw, 1, 'boolean', false));
    return v instanceof Undefined || (orFalsy && !truthy(v)) ? fallback : v;
  },
  dictsort: (v, args, kw) => {
    if (!isPlainObject(v)) throw new TemplateError(`needs a mapping, found ${typeName(v)}`);
    const cs = truthy(arg(args, kw, 0, 'case_sensitive', false));
    const by = str(arg(args, kw, 1, 'by', 'key'));
    const reverse = truthy(arg(args, kw, 2, 'reverse', false));
    const out = Object.entries(v).sort((a, b) => compare(sortKey(by === 'value' ? a[1] : a[0], cs), sortKey(by === 'value' ? b[1] : b[0], cs)));
    return made((reverse ? out.reverse() : out).map((e) => tuple(e)));
  },
  escape: (v) => str(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;'),
  first: (v) => {
    const items = list(v);
    return items.length ? items[0] : new Undefined('first', 'first: the sequence is empty');
  },
  float: (v, args, kw) => toFloat(v, arg(args, kw, 0, 'default', new PyFloat(0))),
  forceescape: (v) => FILTERS.escape(v, [], {}, undefined as never),
  format: (v, args, kw) => percentFormat(str(v), Object.keys(kw).length ? [kw] : args),
  groupby,
  indent,
  int: (v, args, kw) => toInt(v, arg(args, kw, 0, 'default', 0), numberOf(arg(args, kw, 1, 'base', 10))),
  items: (v) => (isPlainObject(v) ? made(Object.entries(v).map((e) => tuple(e))) : new Undefined('items', 'items: needs a mapping')),
  join: (v, args, kw) => {
    const sep = str(arg(args, kw, 0, 'd', ''));
    const attr = arg(args, kw, 1, 'attribute');
    return list(v)
      .map((x) => toText(attr === undefined || attr === null ? x : attribute(x, str(attr))))
      .join(sep);
  },
  last: (v) => {
    const items = list(v);
    return items.length ? items[items.length - 1] : new Undefined('last', 'last: the sequence is empty');
  },
  length: (v) => {
    if (typeof v === 'string') return [...v].length;
    if (Array.isArray(v)) return v.length;
    if (isPlainObject(v)) return Object.keys(v).length;
    throw new TemplateError(`needs a string, list or mapping, found ${typeName(v)}`);
  },
  list: (v) => made([...list(v)]),
  lower: (v) => str(v).toLowerCase(),
  map: mapFilter,
  max: minMax((c) => c > 0),
  min: minMax((c) => c < 0),
  pprint: (v) => repr(v),
  reject: selecting(false, false),
  rejectattr: selecting(true, false),
  replace: (v, [a, b, n]) => {
    const s = str(v);
    const count = n === undefined ? -1 : numberOf(n);
    const parts = s.split(str(a));
    if (count < 0 || parts.length - 1 <= count) return parts.join(str(b));
    return parts.slice(0, count + 1).join(str(b)) + str(a) + parts.slice(count + 1).join(str(a));
  },
  reverse: (v) => (typeof v === 'string' ? [...v].reverse().join('') : made([...list(v)].reverse())),
  round: (v, args, kw) => round(v, arg(args, kw, 0, 'precision', 0), arg(args, kw, 1, 'method', 'common')),
  safe: (v) => v,
  select: selecting(false, true),
  selectattr: selecting(true, true),
  slice: (v, [n, fill]) => {
    const items = list(v);
    const slices = numberOf(n);
    const per = Math.floor(items.length / slices);
    const extra = items.length % slices;
    const out: unknown[][] = [];
    let offset = 0;
    for (let i = 0; i < slices; i++) {
      const size = per + (i < extra ? 1 : 0);
      const part = items.slice(offset, offset + size);
      offset += size;
      if (fill !== undefined && i >= extra && extra) part.push(fill);
      out.push(part);
    }
    return made(out);
  },
  sort: sortFilter,
  string: (v) => toText(v),
  sum: (v, args, kw) => {
    const attr = arg(args, kw, 0, 'attribute');
    const start = arg(args, kw, 1, 'start', 0);
    return list(v).reduce((acc: unknown, x) => {
      const y = attr === undefined || attr === null ? x : force(attribute(x, str(attr)));
      if (Array.isArray(acc) && Array.isArray(y)) return [...acc, ...y];
      const n = numberOf(acc) + numberOf(y);
      return isFloat(acc) || isFloat(y) ? float(n) : n;
    }, start);
  },
  title: (v) => str(v).replace(/[^\s\-([{]+/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()),
  tojson: (v, args, kw) => {
    const ind = arg(args, kw, 0, 'indent');
    return pyJson(v, { sortKeys: true, indent: ind === undefined || ind === null ? undefined : numberOf(ind), ensureAscii: true })
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026')
      .replace(/'/g, '\\u0027');
  },
  trim: (v, [chars]) => {
    const s = str(v);
    if (chars === undefined || chars === null) return s.replace(/^\s+|\s+$/g, '');
    const set = str(chars);
    let a = 0;
    let b = s.length;
    while (a < b && set.includes(s[a])) a++;
    while (b > a && set.includes(s[b - 1])) b--;
    return s.slice(a, b);
  },
  truncate,
  unique: (v, args, kw) => unique(list(v), truthy(arg(args, kw, 0, 'case_sensitive', false)), kw.attribute === undefined ? undefined : str(kw.attribute)),
  upper: (v) => str(v).toUpperCase(),
  urlencode: (v) => encodeURIComponent(str(v)).replace(/%2F/g, '/'),
  wordcount: (v) => (str(v).match(/[\p{L}\p{N}_]+/gu) ?? []).length,

  // Ansible
  b64decode: (v) => base64Decode(v),
  from_yaml_all: (v) => {
    try {
      return made(parseAllDocuments(str(v), { version: '1.1' }).map((d) => d.toJS() ?? null));
    } catch (err) {
      throw new TemplateError(`from_yaml_all: ${(err as Error).message.split('\n')[0]}`);
    }
  },
  subelements: (v, [key, skipMissing]) => {
    const out: unknown[] = [];
    for (const item of list(v)) {
      const sub = attribute(item, str(key));
      if (sub instanceof Undefined) {
        if (truthy(isPlainObject(skipMissing) ? skipMissing.skip_missing : (skipMissing ?? false))) continue;
        throw new TemplateError(`subelements: an item has no key "${str(key)}"`);
      }
      for (const s of list(sub)) out.push(tuple([item, s]));
    }
    return made(out);
  },
  to_uuid: (v, [namespace = '361E6D51-FAEC-444A-9079-341386DA8E2E']) => uuid5(str(namespace), str(v)),
  urlsplit: (v, [part]) => {
    let u: URL;
    try {
      u = new URL(str(v));
    } catch {
      throw new TemplateError(`urlsplit: not a URL: ${str(v)}`);
    }
    const parts: Record<string, unknown> = {
      scheme: u.protocol.replace(/:$/, ''),
      netloc: u.host,
      path: u.pathname,
      query: u.search.replace(/^\?/, ''),
      fragment: u.hash.replace(/^#/, ''),
      username: u.username || null,
      password: u.password || null,
      hostname: u.hostname,
      port: u.port ? Number(u.port) : null,
    };
    if (part === undefined) return made(dict(Object.entries(parts)));
    if (!Object.hasOwn(parts, str(part))) throw new TemplateError(`urlsplit: unknown part "${str(part)}"`);
    return parts[str(part)];
  },
  b64encode: (v) => Buffer.from(str(v), 'utf8').toString('base64'),
  basename: pathFilter((p) => (p.endsWith('/') ? '' : basename(p))),
  dirname: pathFilter((p) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) || (p.startsWith('/') ? '/' : '') : '')),
  expanduser: pathFilter((p) => (p === '~' || p.startsWith('~/') ? homedir() + p.slice(1) : p)),
  splitext: (v) => {
    const p = str(v);
    const ext = extname(p);
    return tuple([p.slice(0, p.length - ext.length), ext]);
  },
  path_join: (v) => (Array.isArray(v) ? join(...v.map(str)) : str(v)),
  bool: (v) => toBool(v),
  checksum: (v) => digest('sha1', str(v)),
  combine: (v, args, kw) => {
    const recursive = truthy(kw.recursive ?? false);
    const listMerge = str(kw.list_merge ?? 'replace');
    const dicts = [v, ...args].flatMap((d) => (Array.isArray(d) ? d : [d]));
    return made(
      dicts.reduce<Record<string, unknown>>((acc, d) => {
        if (!isPlainObject(d)) throw new TemplateError(`combine needs mappings, found ${typeName(d)}`);
        return combine(acc, d, recursive, listMerge);
      }, dict([])),
    );
  },
  dict2items: (v, args, kw) => {
    if (!isPlainObject(v)) throw new TemplateError(`dict2items needs a mapping, found ${typeName(v)}`);
    const k = str(arg(args, kw, 0, 'key_name', 'key'));
    const val = str(arg(args, kw, 1, 'value_name', 'value'));
    return made(
      Object.entries(v).map(([a, b]) =>
        dict([
          [k, a],
          [val, b],
        ]),
      ),
    );
  },
  items2dict: (v, args, kw) => items2dict(v, str(arg(args, kw, 0, 'key_name', 'key')), str(arg(args, kw, 1, 'value_name', 'value'))),
  difference: (v, [other]) => unique(list(v).filter((x) => !list(other).some((y) => equal(x, y)))),
  intersect: (v, [other]) => unique(list(v).filter((x) => list(other).some((y) => equal(x, y)))),
  union: (v, [other]) => unique([...list(v), ...list(other)]),
  symmetric_difference: (v, [other]) => {
    const a = list(v);
    const b = list(other);
    return unique([...a.filter((x) => !b.some((y) => equal(x, y))), ...b.filter((x) => !a.some((y) => equal(x, y)))]);
  },
  extract: (v, [container, morekeys]) => {
    let cur = container;
    for (const key of [v, ...(morekeys === undefined ? [] : Array.isArray(morekeys) ? morekeys : [morekeys])]) {
      if (Array.isArray(cur)) cur = cur[numberOf(key)];
      else if (isPlainObject(cur) && Object.hasOwn(cur, str(key))) cur = cur[str(key)];
      else return new Undefined(str(key), `extract: no key ${repr(key)}`);
    }
    return cur;
  },
  flatten: (v, args, kw) => {
    const levels = arg(args, kw, 0, 'levels');
    return made(flatten(list(v), levels === undefined || levels === null ? undefined : numberOf(levels), truthy(arg(args, kw, 1, 'skip_nulls', true))));
  },
  from_json: (v) => fromJson(v),
  from_yaml: (v) => fromYaml(v),
  to_json: (v, _args, kw) =>
    pyJson(v, {
      indent: kw.indent === undefined ? undefined : numberOf(kw.indent),
      sortKeys: truthy(kw.sort_keys ?? false),
      ensureAscii: truthy(kw.ensure_ascii ?? true),
    }),
  to_nice_json: (v, args, kw) =>
    pyJson(v, { indent: numberOf(arg(args, kw, 0, 'indent', 4)), sortKeys: truthy(arg(args, kw, 1, 'sort_keys', true)), ensureAscii: truthy(kw.ensure_ascii ?? true) }),
  to_yaml: (v, _args, kw) =>
    pyYaml(v, { indent: kw.indent === undefined ? 2 : numberOf(kw.indent), flow: kw.default_flow_style === undefined ? true : kw.default_flow_style === null }),
  to_nice_yaml: (v, args, kw) => pyYaml(v, { indent: numberOf(arg(args, kw, 0, 'indent', 4)), flow: false }),
  hash: (v, [algo = 'sha1']) => digest(str(algo), str(v)),
  md5: (v) => digest('md5', str(v)),
  sha1: (v) => digest('sha1', str(v)),
  password_hash: (v, args, kw) => {
    const scheme = str(arg(args, kw, 0, 'hashtype', 'sha512'));
    const salt = arg(args, kw, 1, 'salt');
    const rounds = arg(args, kw, 2, 'rounds');
    if (scheme !== 'sha512' && scheme !== 'sha256') throw new TemplateError(`password_hash: plumb supports sha512 and sha256, not "${scheme}"`);
    // A random salt would change the file on every run: plumb needs it given, as idempotent roles do.
    if (salt === undefined || salt === null) throw new TemplateError("password_hash: give a salt (password_hash('sha512', 'somesalt')) so the result is the same on every run");
    if (!/^[./0-9A-Za-z]{1,16}$/.test(str(salt))) throw new TemplateError('password_hash: the salt is 1 to 16 characters of [./0-9A-Za-z]');
    return shaCrypt(str(v), str(salt), scheme, rounds === undefined || rounds === null ? undefined : numberOf(rounds));
  },
  log: (v, [base]) => float(base === undefined ? Math.log(numberOf(v)) : Math.log(numberOf(v)) / Math.log(numberOf(base))),
  pow: (v, [x]) => float(numberOf(v) ** numberOf(x)),
  root: (v, [base = 2]) => float(numberOf(v) ** (1 / numberOf(base))),
  mandatory: (v, args, kw) => {
    if (v instanceof Undefined) {
      const msg = arg(args, kw, 0, 'msg');
      throw new TemplateError(msg === undefined || msg === null ? `mandatory variable "${v.name}" is not defined` : str(msg));
    }
    return v;
  },
  product: (v, args) => made(product([list(v), ...args.map(list)]).map((x) => tuple(x))),
  quote: (v) => quote(v === null ? '' : str(v)),
  regex_escape: (v) => str(v).replace(/[^A-Za-z0-9_]/g, (c) => `\\${c}`),
  regex_replace: (v, args, kw) => {
    const pattern = str(arg(args, kw, 0, 'pattern', ''));
    const repl = str(arg(args, kw, 1, 'replacement', ''));
    const count = numberOf(arg(args, kw, 4, 'count', 0));
    return pySubn(pyRegex(pattern, regexFlags(kw, args, 2) + 'g'), repl, str(v), count).text;
  },
  regex_search: (v, args, kw) => {
    const [pattern, ...groups] = args;
    const re = pyRegex(str(pattern), regexFlags(kw, [], 0));
    const m = re.exec(str(v));
    if (!m) return null;
    if (!groups.length) return m[0];
    return made(
      groups.map((g) => {
        const s = str(g);
        const num = /^\\(\d+)$/.exec(s);
        const named = /^\\g<(\w+)>$/.exec(s);
        if (num) return m[Number(num[1])] ?? null;
        if (named) return m.groups?.[named[1]] ?? null;
        throw new TemplateError(`regex_search: unknown group argument ${repr(g)}; use '\\1' or '\\g<name>'`);
      }),
    );
  },
  regex_findall: (v, args, kw) => {
    const re = pyRegex(str(arg(args, kw, 0, 'regex', '')), regexFlags(kw, args, 1) + 'g');
    return made([...str(v).matchAll(re)].map((m) => (m.length === 1 ? m[0] : m.length === 2 ? (m[1] ?? '') : tuple(m.slice(1).map((x) => x ?? '')))));
  },
  split: (v, [sep, max]) => made(pySplit(str(v), sep, max)),
  ternary: (v, args, kw) => {
    const yes = arg(args, kw, 0, 'true_val');
    const no = arg(args, kw, 1, 'false_val');
    const none = arg(args, kw, 2, 'none_val');
    if (v === null && none !== undefined) return none;
    return truthy(v) ? yes : no;
  },
  type_debug: (v) => {
    if (v === null) return 'NoneType';
    if (typeof v === 'string') return 'str';
    if (typeof v === 'boolean') return 'bool';
    if (isNumber(v)) return isFloat(v) ? 'float' : 'int';
    if (Array.isArray(v)) return 'list';
    return 'dict';
  },
  zip: (v, args) => {
    const lists = [list(v), ...args.map(list)];
    const n = Math.min(...lists.map((l) => l.length));
    return made(Array.from({ length: n }, (_, i) => tuple(lists.map((l) => l[i]))));
  },
  zip_longest: (v, args, kw) => {
    const lists = [list(v), ...args.map(list)];
    const n = Math.max(...lists.map((l) => l.length));
    const fill = kw.fillvalue ?? null;
    return made(Array.from({ length: n }, (_, i) => tuple(lists.map((l) => (i < l.length ? l[i] : fill)))));
  },
  comment: (v, args, kw) => {
    const style = str(arg(args, kw, 0, 'style', 'plain'));
    const prefix = style === 'c' || style === 'cblock' ? '// ' : style === 'erlang' ? '% ' : '# ';
    const lines = str(v)
      .split('\n')
      .map((l) => `${prefix}${l}`.trimEnd());
    const decoration = prefix.trim();
    return [decoration, ...lines, decoration].join('\n');
  },
};
FILTERS.d = FILTERS.default;
FILTERS.e = FILTERS.escape;
FILTERS.count = FILTERS.length;
for (const [k, v] of Object.entries(FILTERS)) if (!k.includes('.')) FILTERS[`ansible.builtin.${k}`] = v;

export const filterNames = Object.keys(FILTERS).filter((n) => !n.startsWith('ansible.'));
