/**
 * The Python methods a template may call on strings, lists and dicts
 * (`'a,b'.split(',')`, `d.items()`), implemented by plumb. Lists and dicts
 * are changed only when the template made them itself.
 */
import { TemplateError } from './errors.js';
import { owned } from './evaluate.js';
import { dict, equal, force, isPlainObject, numberOf, toText, tuple } from './py.js';

type Method<T> = (self: T, args: unknown[], kwargs: Record<string, unknown>) => unknown;

function s(v: unknown): string {
  if (typeof v !== 'string') throw new TemplateError(`expected a string, found ${JSON.stringify(v)}`);
  return v;
}

/** Python's str.split: no separator splits on runs of whitespace. */
export function pySplit(text: string, sep: unknown, maxsplit: unknown): string[] {
  const max = maxsplit === undefined || maxsplit === null ? -1 : numberOf(maxsplit);
  if (sep === undefined || sep === null) {
    const out: string[] = [];
    let rest = text.replace(/^\s+/, '');
    while (rest) {
      if (max >= 0 && out.length === max) {
        out.push(rest);
        break;
      }
      const m = /\s+/.exec(rest);
      if (!m) {
        out.push(rest);
        break;
      }
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  }
  const sp = s(sep);
  if (!sp) throw new TemplateError('empty separator');
  const parts = text.split(sp);
  if (max < 0 || parts.length <= max + 1) return parts;
  return [...parts.slice(0, max), parts.slice(max).join(sp)];
}

function strip(text: string, chars: unknown, left: boolean, right: boolean): string {
  const set = chars === undefined || chars === null ? null : s(chars);
  const drop = (c: string) => (set === null ? /\s/.test(c) : set.includes(c));
  let a = 0;
  let b = text.length;
  if (left) while (a < b && drop(text[a])) a++;
  if (right) while (b > a && drop(text[b - 1])) b--;
  return text.slice(a, b);
}

function mutable(self: object): void {
  if (!owned.has(self)) throw new TemplateError('only lists and dicts the template made itself can be changed; use filters (e.g. `x + [y]`, `combine`) instead');
}

/** `{}` and `{0}` / `{name}` fields of str.format. */
function format(self: string, args: unknown[], kwargs: Record<string, unknown>): string {
  let auto = 0;
  return self.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, field: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const name = (field ?? '').split(':')[0];
    const v = name === '' ? args[auto++] : /^\d+$/.test(name) ? args[Number(name)] : kwargs[name];
    if (v === undefined) throw new TemplateError(`str.format: no value for {${name}}`);
    return toText(v);
  });
}

const str: Record<string, Method<string>> = {
  split: (t, [sep, max], kw) => pySplit(t, sep ?? kw.sep, max ?? kw.maxsplit),
  rsplit: (t, [sep, max]) => {
    if (max === undefined || max === null) return pySplit(t, sep, max);
    const parts = pySplit([...t].reverse().join(''), sep === undefined || sep === null ? sep : [...s(sep)].reverse().join(''), max);
    return parts.map((p) => [...p].reverse().join('')).reverse();
  },
  splitlines: (t) => t.split(/\r\n|\r|\n/).filter((x, i, all) => i < all.length - 1 || x !== ''),
  strip: (t, [c]) => strip(t, c, true, true),
  lstrip: (t, [c]) => strip(t, c, true, false),
  rstrip: (t, [c]) => strip(t, c, false, true),
  startswith: (t, [p]) => (Array.isArray(p) ? p.some((x) => t.startsWith(s(x))) : t.startsWith(s(p))),
  endswith: (t, [p]) => (Array.isArray(p) ? p.some((x) => t.endsWith(s(x))) : t.endsWith(s(p))),
  upper: (t) => t.toUpperCase(),
  lower: (t) => t.toLowerCase(),
  capitalize: (t) => t.charAt(0).toUpperCase() + t.slice(1).toLowerCase(),
  title: (t) => t.replace(/[A-Za-z\u00c0-\uffff]+/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()),
  replace: (t, [a, b, n]) => {
    const count = n === undefined ? -1 : numberOf(n);
    const parts = t.split(s(a));
    if (count < 0 || parts.length - 1 <= count) return parts.join(s(b));
    return parts.slice(0, count + 1).join(s(b)) + s(a) + parts.slice(count + 1).join(s(a));
  },
  join: (t, [items]) => (Array.isArray(items) ? items.map((x) => s(x)).join(t) : [...s(items)].join(t)),
  find: (t, [x]) => t.indexOf(s(x)),
  count: (t, [x]) => t.split(s(x)).length - 1,
  isdigit: (t) => /^[0-9]+$/.test(t),
  isalpha: (t) => /^\p{L}+$/u.test(t),
  isalnum: (t) => /^[\p{L}\p{N}]+$/u.test(t),
  islower: (t) => /[a-z]/.test(t) && t === t.toLowerCase(),
  isupper: (t) => /[A-Z]/.test(t) && t === t.toUpperCase(),
  zfill: (t, [w]) => (t.startsWith('-') || t.startsWith('+') ? t[0] + t.slice(1).padStart(numberOf(w) - 1, '0') : t.padStart(numberOf(w), '0')),
  ljust: (t, [w, f]) => t.padEnd(numberOf(w), f === undefined ? ' ' : s(f)),
  rjust: (t, [w, f]) => t.padStart(numberOf(w), f === undefined ? ' ' : s(f)),
  format,
};

const list: Record<string, Method<unknown[]>> = {
  index: (l, [x]) => {
    const i = l.findIndex((y) => equal(y, x));
    if (i < 0) throw new TemplateError(`${toText(x)} is not in the list`);
    return i;
  },
  count: (l, [x]) => l.filter((y) => equal(y, x)).length,
  append: (l, [x]) => {
    mutable(l);
    l.push(x);
    return null;
  },
  extend: (l, [x]) => {
    mutable(l);
    if (!Array.isArray(x)) throw new TemplateError('list.extend needs a list');
    l.push(...x);
    return null;
  },
  insert: (l, [i, x]) => {
    mutable(l);
    l.splice(numberOf(i), 0, x);
    return null;
  },
  pop: (l, [i]) => {
    mutable(l);
    if (!l.length) throw new TemplateError('pop from an empty list');
    return i === undefined ? l.pop() : l.splice(numberOf(i), 1)[0];
  },
};

const dictMethods: Record<string, Method<Record<string, unknown>>> = {
  items: (d) => Object.entries(d).map(([k, v]) => tuple([k, v])),
  keys: (d) => Object.keys(d),
  values: (d) => Object.values(d),
  get: (d, [k, def]) => (Object.hasOwn(d, toText(force(k))) ? d[toText(k)] : (def ?? null)),
  copy: (d) => dict(Object.entries(d)),
  update: (d, [other], kw) => {
    mutable(d);
    for (const [k, v] of [...Object.entries(isPlainObject(other) ? other : {}), ...Object.entries(kw)])
      Object.defineProperty(d, k, { value: v, enumerable: true, writable: true, configurable: true });
    return null;
  },
};

export const METHODS: { str: Record<string, Method<string>>; list: Record<string, Method<unknown[]>>; dict: Record<string, Method<Record<string, unknown>>> } = {
  str,
  list,
  dict: dictMethods,
};
