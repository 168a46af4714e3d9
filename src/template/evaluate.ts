/**
 * Strict evaluation of parsed templates against a variable scope. A missing
 * variable or key is an Undefined value that only `default`, `mandatory` and
 * `is defined` may look at; any other use is an error naming it (Ansible's
 * StrictUndefined). Only own properties of plain data are read, and the only
 * things a template can call are plumb's own functions (macros, `range`,
 * `lookup`, Python string/list/dict methods), so `__proto__`, `constructor`
 * and friends are just missing keys and no JavaScript is ever reached.
 */
import { closest, didYouMean } from '../source/suggest.js';
import { TemplateError } from './errors.js';
import type { Expr } from './expr.js';
import { FILTERS, filterNames, ACCEPTS_UNDEFINED, percentFormat } from './filters.js';
import { parseTemplate, type Node, type Syntax } from './parse.js';
import {
  Callable,
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
  toText,
  truthy,
  tuple,
  tupleFields,
  tuples,
  typeName,
  Undefined,
} from './py.js';
import { METHODS } from './methods.js';
import { TESTS, testNames } from './tests.js';

export { toText, truthy, force, Undefined };

/** What an expression reads variables from. */
export interface Lookup {
  lookup(name: string): unknown;
  names(): Iterable<string>;
  /** Told which environment variable an expression read (`env.NAME`), so errors can name it. */
  readEnv?(name: string): void;
}

/** Local files for `lookup('file'|'template')` and `{% include %}`: found as the template module finds `src`. */
export interface FileHost {
  /** The text of a local file and the path it was read from; throws TemplateError when missing. */
  read(kind: 'file' | 'template', path: string): { path: string; text: string };
}

/** Everything one render needs: where variables and files come from, and the syntax of included templates. */
export interface Runtime {
  scope: Lookup;
  files?: FileHost;
  syntax?: Syntax;
  /** Depth of lookup('template')/include nesting, against runaway recursion. */
  depth?: number;
}

/** Marks the `env` object so a missing key says "environment variable X is not set". */
const envObjects = new WeakSet<object>();
/** Lists, dicts and namespaces a template made itself: only those may be changed (`append`, `set ns.x`). */
export const owned = new WeakSet<object>();
const namespaces = new WeakSet<object>();

export function makeEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  // Already made (a run's scopes share one; a loop item's scope is made per item): copying the environment per scope costs at 2,000 hosts.
  if (envObjects.has(env)) return env as Record<string, string>;
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  envObjects.add(out);
  return Object.freeze(out);
}

function own<T extends object>(v: T): T {
  owned.add(v);
  return v;
}

class Frame {
  readonly vars = new Map<string, unknown>();
  constructor(readonly parent?: Frame) {}
  find(name: string): Frame | undefined {
    if (this.vars.has(name)) return this;
    return this.parent?.find(name);
  }
}

/** One render in progress. */
export class Evaluation {
  constructor(readonly rt: Runtime) {}

  lookupName(name: string, frame: Frame | undefined, at: number): unknown {
    const f = frame?.find(name);
    if (f) return f.vars.get(name);
    const v = this.rt.scope.lookup(name);
    if (v instanceof Undefined) {
      const g = globalFunction(name, this);
      if (g) return g;
      return v.moved(v.name, at);
    }
    return v;
  }

  eval(e: Expr, frame?: Frame): unknown {
    switch (e.t) {
      case 'lit':
        return e.v;
      case 'list':
        return own(e.items.map((x) => force(this.eval(x, frame))));
      case 'tuple':
        return tuple(e.items.map((x) => force(this.eval(x, frame))));
      case 'dict':
        return own(dict(e.pairs.map(([k, v]) => [keyText(force(this.eval(k, frame))), force(this.eval(v, frame))])));
      case 'name':
        return this.lookupName(e.name, frame, e.at);
      case 'attr':
        return member(this.envRead(this.eval(e.obj, frame), e.name), e.name, label(e), e.at, true);
      case 'index': {
        const obj = this.eval(e.obj, frame);
        const key = force(this.eval(e.index, frame));
        return member(this.envRead(obj, key), key, label(e), e.at, false);
      }
      case 'slice':
        return slice(
          force(this.eval(e.obj, frame)),
          e.start && force(this.eval(e.start, frame)),
          e.stop && force(this.eval(e.stop, frame)),
          e.step && force(this.eval(e.step, frame)),
        );
      case 'filter':
        return this.filter(e.name, e.arg ? this.eval(e.arg, frame) : '', e.args, e.kwargs, frame, e.at);
      case 'test': {
        const kwargs: Record<string, unknown> = Object.create(null);
        for (const [k, v] of e.kwargs) kwargs[k] = force(this.eval(v, frame));
        const r = this.test(
          e.name,
          this.eval(e.arg, frame),
          e.args.map((a) => force(this.eval(a, frame))),
          e.at,
          kwargs,
        );
        return e.negate ? !r : r;
      }
      case 'call': {
        let fn = force(this.eval(e.fn, frame));
        if (isPlainObject(fn) && loopCalls.has(fn)) fn = loopCalls.get(fn);
        if (!(fn instanceof Callable)) throw new TemplateError(`${label(e.fn)} is ${typeName(fn)}, not something to call`).atOffset(e.at);
        const args = e.args.map((a) => force(this.eval(a, frame)));
        const kwargs: Record<string, unknown> = Object.create(null);
        for (const [k, v] of e.kwargs) kwargs[k] = force(this.eval(v, frame));
        try {
          return fn.call(args, kwargs);
        } catch (err) {
          if (err instanceof TemplateError) throw err.atOffset(e.at);
          throw err;
        }
      }
      case 'not':
        return !truthy(this.eval(e.e, frame));
      case 'neg': {
        const v = force(this.eval(e.e, frame));
        return v instanceof PyFloat ? new PyFloat(-v.v) : -numberOf(num(v, '-'));
      }
      case 'pos':
        return num(force(this.eval(e.e, frame)), '+');
      case 'and': {
        const l = this.eval(e.l, frame);
        return truthy(l) ? this.eval(e.r, frame) : l;
      }
      case 'or': {
        const l = this.eval(e.l, frame);
        return truthy(l) ? l : this.eval(e.r, frame);
      }
      case 'bin':
        try {
          return binary(e.op, force(this.eval(e.l, frame)), force(this.eval(e.r, frame)));
        } catch (err) {
          if (err instanceof TemplateError) throw err.atOffset(e.at);
          throw err;
        }
      case 'cmp': {
        let l = force(this.eval(e.first, frame));
        for (const [op, re] of e.ops) {
          const r = force(this.eval(re, frame));
          let ok: boolean;
          try {
            ok = comparison(op, l, r);
          } catch (err) {
            if (err instanceof TemplateError) throw err.atOffset(e.at);
            throw err;
          }
          if (!ok) return false;
          l = r;
        }
        return true;
      }
      case 'cond':
        if (truthy(this.eval(e.test, frame))) return this.eval(e.then, frame);
        // Without `else` a false condition gives nothing (Ansible prints it as empty).
        return e.else ? this.eval(e.else, frame) : null;
    }
  }

  private envRead(obj: unknown, key: unknown): unknown {
    if (typeof obj === 'object' && obj !== null && envObjects.has(obj)) this.rt.scope.readEnv?.(String(key));
    return obj;
  }

  filter(name: string, value: unknown, argExprs: Expr[], kwargExprs: Array<[string, Expr]>, frame: Frame | undefined, at: number): unknown {
    const f = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
    if (!f) throw new TemplateError(`unknown filter "${name}"${didYouMean(name, filterNames)}`).atOffset(at);
    const args = argExprs.map((a) => force(this.eval(a, frame)));
    const kwargs: Record<string, unknown> = Object.create(null);
    for (const [k, v] of kwargExprs) kwargs[k] = force(this.eval(v, frame));
    return this.applyFilter(name, value, args, kwargs, at);
  }

  applyFilter(name: string, value: unknown, args: unknown[], kwargs: Record<string, unknown>, at?: number): unknown {
    const f = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
    if (!f) throw new TemplateError(`unknown filter "${name}"${didYouMean(name, filterNames)}`);
    try {
      return f(ACCEPTS_UNDEFINED.has(name) ? value : force(value), args, kwargs, this);
    } catch (err) {
      if (err instanceof TemplateError) {
        let named = err;
        if (!err.detail.includes(`filter ${name}`) && !(value instanceof Undefined)) {
          named = new TemplateError(`filter ${name}: ${err.detail}`);
          named.offset = err.offset;
        }
        throw at === undefined ? named : named.atOffset(at);
      }
      throw err;
    }
  }

  test(name: string, value: unknown, args: unknown[], at?: number, kwargs: Record<string, unknown> = {}): boolean {
    const t = Object.hasOwn(TESTS, name) ? TESTS[name] : undefined;
    if (!t) throw new TemplateError(`unknown test "is ${name}"${didYouMean(name, testNames)}`).atOffset(at ?? 0);
    try {
      return t(name === 'defined' || name === 'undefined' ? value : force(value), args, this, kwargs);
    } catch (err) {
      if (err instanceof TemplateError && at !== undefined) throw err.atOffset(at);
      throw err;
    }
  }

  /** Render nodes into `out`. */
  run(nodes: Node[], frame: Frame, out: string[]): void {
    for (const node of nodes) {
      if (node.n === 'text') {
        out.push(node.text);
        continue;
      }
      try {
        this.runNode(node, frame, out);
      } catch (err) {
        if (err instanceof TemplateError) throw err.atOffset(node.at);
        throw err;
      }
    }
  }

  private runNode(node: Exclude<Node, { n: 'text' }>, frame: Frame, out: string[]): void {
    switch (node.n) {
      case 'out':
        out.push(finalize(this.eval(node.e, frame)));
        return;
      case 'if':
        for (const b of node.branches) {
          if (truthy(this.eval(b.test, frame))) return this.run(b.body, frame, out);
        }
        if (node.else) this.run(node.else, frame, out);
        return;
      case 'for':
        return this.runFor(node, frame, out);
      case 'callblock': {
        const caller = new Callable('caller', (args) => {
          const f = new Frame(frame);
          node.params.forEach((p, i) => f.vars.set(p, i < args.length ? args[i] : new Undefined(p, `caller(): missing argument "${p}"`)));
          const buf: string[] = [];
          this.run(node.body, f, buf);
          return buf.join('');
        });
        const call = node.call as Extract<Expr, { t: 'call' }>;
        const fn = force(this.eval(call.fn, frame));
        if (!(fn instanceof Callable)) throw new TemplateError('{% call %} needs a macro');
        const kwargs: Record<string, unknown> = Object.create(null);
        for (const [k, v] of call.kwargs) kwargs[k] = force(this.eval(v, frame));
        kwargs.caller = caller;
        out.push(
          finalize(
            fn.call(
              call.args.map((a) => force(this.eval(a, frame))),
              kwargs,
            ),
          ),
        );
        return;
      }
      case 'set': {
        const value = force(this.eval(node.e, frame));
        if ('ns' in node.target) {
          const ns = force(this.lookupName(node.target.ns, frame, node.at));
          if (!isPlainObject(ns) || !namespaces.has(ns)) throw new TemplateError(`{% set ${node.target.ns}.${node.target.attr} %} needs ${node.target.ns} to be a namespace()`);
          Object.defineProperty(ns, node.target.attr, { value, enumerable: true, writable: true, configurable: true });
          return;
        }
        assign(frame, node.target.names, value);
        return;
      }
      case 'setblock': {
        let value: unknown = this.capture(node.body, frame);
        for (const f of node.filters) {
          if (f.t !== 'filter') continue;
          value = this.filter(f.name, value, f.args, f.kwargs, frame, f.at);
        }
        frame.vars.set(node.name, value);
        return;
      }
      case 'macro':
        frame.vars.set(node.name, this.macro(node, frame));
        return;
      case 'filterblock': {
        let value: unknown = this.capture(node.body, frame);
        for (const f of node.filters) {
          if (f.t !== 'filter') continue;
          value = this.filter(f.name, value, f.args, f.kwargs, frame, f.at);
        }
        out.push(finalize(value));
        return;
      }
      case 'with': {
        const inner = new Frame(frame);
        for (const [t, e] of node.assigns) assign(inner, 'names' in t ? t.names : [], force(this.eval(e, frame)));
        this.run(node.body, inner, out);
        return;
      }
      case 'include': {
        const name = force(this.eval(node.e, frame));
        const names = Array.isArray(name) ? name : [name];
        for (const n of names) {
          let file: { path: string; text: string };
          try {
            file = this.readFile('template', toText(n));
          } catch (err) {
            if (node.ignoreMissing || names.length > 1) continue;
            throw err;
          }
          out.push(this.renderIncluded(file, frame));
          return;
        }
        if (!node.ignoreMissing) throw new TemplateError(`none of the templates ${JSON.stringify(names)} exist`);
        return;
      }
    }
  }

  private runFor(node: Extract<Node, { n: 'for' }>, frame: Frame, out: string[], iterable?: unknown, depth = 1): void {
    let items = iterate(iterable === undefined ? this.eval(node.iter, frame) : iterable);
    const names = 'names' in node.target ? node.target.names : [];
    if (node.cond) {
      const cond = node.cond;
      items = items.filter((item) => {
        const f = new Frame(frame);
        assign(f, names, item);
        return truthy(this.eval(cond, f));
      });
    }
    if (items.length === 0) {
      if (node.else) this.run(node.else, frame, out);
      return;
    }
    const length = items.length;
    const last: { seen: boolean; value?: unknown } = { seen: false };
    for (let i = 0; i < length; i++) {
      const inner = new Frame(frame);
      assign(inner, names, items[i]);
      const loop = loopObject(items, i, last, depth);
      if (node.recursive) {
        loopCalls.set(
          loop,
          new Callable('loop', (args) => {
            const buf: string[] = [];
            this.runFor(node, frame, buf, args[0], depth + 1);
            return buf.join('');
          }),
        );
      }
      inner.vars.set('loop', loop);
      this.run(node.body, inner, out);
    }
  }

  private capture(body: Node[], frame: Frame): string {
    const buf: string[] = [];
    this.run(body, new Frame(frame), buf);
    return buf.join('');
  }

  private macro(node: Extract<Node, { n: 'macro' }>, defined: Frame): Callable {
    const attrs = { name: node.name, arguments: tuple(node.params.map((p) => p.name)) };
    return new Callable(
      node.name,
      (args, rawKwargs) => {
        const f = new Frame(defined);
        const kwargs = { ...rawKwargs };
        if (kwargs.caller instanceof Callable) {
          f.vars.set('caller', kwargs.caller);
          delete kwargs.caller;
        }
        const extra: unknown[] = [];
        node.params.forEach((p, i) => {
          if (i < args.length) f.vars.set(p.name, args[i]);
          else if (Object.hasOwn(kwargs, p.name)) f.vars.set(p.name, kwargs[p.name]);
          else if (p.def) f.vars.set(p.name, force(this.eval(p.def, f)));
          else f.vars.set(p.name, new Undefined(p.name, `macro ${node.name}: missing argument "${p.name}"`));
        });
        for (let i = node.params.length; i < args.length; i++) extra.push(args[i]);
        if (extra.length && !usesName(node.body, 'varargs')) throw new TemplateError(`macro '${node.name}' takes not more than ${node.params.length} argument(s)`);
        f.vars.set('varargs', tuple(extra));
        f.vars.set('kwargs', dict(Object.entries(kwargs).filter(([k]) => !node.params.some((p) => p.name === k))));
        const buf: string[] = [];
        this.run(node.body, f, buf);
        return buf.join('');
      },
      attrs,
    );
  }

  readFile(kind: 'file' | 'template', path: string): { path: string; text: string } {
    if (!this.rt.files) throw new TemplateError(`lookup('${kind}', '${path}'): no local files here`);
    return this.rt.files.read(kind, path);
  }

  private renderIncluded(file: { path: string; text: string }, frame: Frame): string {
    if ((this.rt.depth ?? 0) > 20) throw new TemplateError(`templates include each other too deeply (at ${file.path})`);
    const inner = new Evaluation({ ...this.rt, depth: (this.rt.depth ?? 0) + 1 });
    try {
      const buf: string[] = [];
      inner.run(parseTemplate(file.text, this.rt.syntax), new Frame(frame), buf);
      return buf.join('');
    } catch (err) {
      if (err instanceof TemplateError) throw err.inFile(file.path, file.text);
      throw err;
    }
  }

  /** lookup('template', path): rendered with the current variables. */
  renderTemplateFile(path: string): string {
    return this.renderIncluded(this.readFile('template', path), new Frame());
  }
}

function badPair(p: unknown): never {
  throw new TemplateError(`dict() needs pairs, found ${typeName(p)}`);
}

/** Whether a macro body reads `name` (varargs makes extra arguments welcome). */
function usesName(nodes: Node[], name: string): boolean {
  return JSON.stringify(nodes).includes(`"name":"${name}"`);
}

/** How a value is output: Ansible's finalize prints none as nothing. */
function finalize(v: unknown): string {
  v = force(v);
  return v === null ? '' : toText(v);
}

function assign(frame: Frame, names: string[], value: unknown): void {
  if (names.length === 1) {
    frame.vars.set(names[0], value);
    return;
  }
  const items = Array.isArray(value) ? value : typeof value === 'string' ? [...value] : undefined;
  if (!items || items.length !== names.length) {
    throw new TemplateError(`cannot unpack ${typeName(value)} into ${names.length} names (${names.join(', ')})`);
  }
  names.forEach((n, i) => frame.vars.set(n, items[i]));
}

/** A recursive loop's `loop` is also callable: `loop(children)` renders the loop body again, one level deeper. */
const loopCalls = new WeakMap<object, Callable>();

function loopObject(items: unknown[], i: number, last: { seen: boolean; value?: unknown }, depth: number): Record<string, unknown> {
  const length = items.length;
  return dict([
    ['index', i + 1],
    ['index0', i],
    ['revindex', length - i],
    ['revindex0', length - i - 1],
    ['first', i === 0],
    ['last', i === length - 1],
    ['length', length],
    ['depth', depth],
    ['depth0', depth - 1],
    ['previtem', i > 0 ? items[i - 1] : new Undefined('loop.previtem', 'loop.previtem is undefined on the first iteration')],
    ['nextitem', i < length - 1 ? items[i + 1] : new Undefined('loop.nextitem', 'loop.nextitem is undefined on the last iteration')],
    ['cycle', new Callable('loop.cycle', (args) => (args.length ? args[i % args.length] : new Undefined('loop.cycle', 'loop.cycle needs arguments')))],
    [
      'changed',
      new Callable('loop.changed', (args) => {
        const value = tuple(args);
        const changed = !last.seen || !equal(last.value, value);
        last.seen = true;
        last.value = value;
        return changed;
      }),
    ],
  ]);
}

function keyText(k: unknown): string {
  if (typeof k === 'string') return k;
  if (k === null || typeof k === 'object') throw new TemplateError(`a mapping key must be a string or number, not ${typeName(k)}`);
  return toText(k);
}

function label(e: Expr): string {
  switch (e.t) {
    case 'name':
      return e.name;
    case 'attr':
      return `${label(e.obj)}.${e.name}`;
    case 'index':
      return `${label(e.obj)}[${e.index.t === 'lit' ? JSON.stringify(e.index.v) : '…'}]`;
    case 'call':
      return `${label(e.fn)}(…)`;
    default:
      return 'value';
  }
}

/** `obj.key` (attr: methods first, as Jinja's getattr) or `obj[key]` (items first). */
function member(obj: unknown, key: unknown, name: string, at: number, attr: boolean): unknown {
  if (obj instanceof Undefined) return obj.moved(name, obj.at ?? at);
  if (obj instanceof Callable) {
    if (typeof key === 'string' && Object.hasOwn(obj.attrs, key)) return obj.attrs[key];
    throw new TemplateError(`${name}: a function has no attributes or items`);
  }
  if (typeof key === 'string' && (attr || !isPlainObject(obj))) {
    const method = boundMethod(obj, key);
    if (method) return method;
  }
  if (Array.isArray(obj)) {
    if (typeof key === 'number' && Number.isInteger(key)) {
      const i = key < 0 ? obj.length + key : key;
      return i >= 0 && i < obj.length ? obj[i] : new Undefined(name, `index out of range: ${name} (the list has ${obj.length} items)`, at);
    }
    const field = typeof key === 'string' ? (tupleFields.get(obj)?.indexOf(key) ?? -1) : -1;
    if (field >= 0) return obj[field];
    if (typeof key === 'string') return new Undefined(name, `undefined attribute: ${name} (a list has no attribute "${key}")`, at);
    throw new TemplateError(`${name}: a list is indexed by a whole number, not ${JSON.stringify(key)}`);
  }
  if (isPlainObject(obj)) {
    const k = typeof key === 'string' ? key : keyText(key);
    if (Object.hasOwn(obj, k)) return obj[k];
    if (envObjects.has(obj)) return new Undefined(name, `environment variable ${k} is not set`, at);
    return new Undefined(name, `undefined key: ${name}${didYouMean(k, Object.keys(obj))}`, at);
  }
  if (typeof obj === 'string') {
    if (typeof key === 'number' && Number.isInteger(key)) {
      const chars = [...obj];
      return chars.at(key) ?? new Undefined(name, `index out of range: ${name}`, at);
    }
    return new Undefined(name, `undefined attribute: ${name} (a string has no attribute ${JSON.stringify(key)})`, at);
  }
  return new Undefined(name, `undefined attribute: ${name} (${typeName(force(obj))} has no attributes or items)`, at);
}

function boundMethod(obj: unknown, key: string): Callable | undefined {
  const kind = typeof obj === 'string' ? 'str' : Array.isArray(obj) ? 'list' : isPlainObject(obj) ? 'dict' : undefined;
  if (!kind) return undefined;
  const table = METHODS[kind];
  const m = Object.hasOwn(table, key) ? table[key] : undefined;
  if (!m) return undefined;
  return new Callable(`${kind}.${key}`, (args, kwargs) => m(obj as never, args, kwargs));
}

function pyIndex(i: number, len: number): number {
  return i < 0 ? Math.max(0, len + i) : Math.min(i, len);
}

function slice(obj: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  const items = typeof obj === 'string' ? [...obj] : Array.isArray(obj) ? obj : undefined;
  if (!items) throw new TemplateError(`${typeName(obj)} cannot be sliced`);
  const st = step === undefined || step === null ? 1 : numberOf(step);
  if (st === 0) throw new TemplateError('slice step cannot be zero');
  const len = items.length;
  const out: unknown[] = [];
  if (st > 0) {
    const a = start === undefined || start === null ? 0 : pyIndex(numberOf(start), len);
    const b = stop === undefined || stop === null ? len : pyIndex(numberOf(stop), len);
    for (let i = a; i < b; i += st) out.push(items[i]);
  } else {
    const a = start === undefined || start === null ? len - 1 : Math.min(numberOf(start) < 0 ? len + numberOf(start) : numberOf(start), len - 1);
    const b = stop === undefined || stop === null ? -1 : numberOf(stop) < 0 ? Math.max(-1, len + numberOf(stop)) : numberOf(stop);
    for (let i = a; i > b; i += st) out.push(items[i]);
  }
  return typeof obj === 'string' ? out.join('') : own(tuples.has(obj as unknown[]) ? tuple(out) : out);
}

function num(v: unknown, op: string): number | PyFloat {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (!isNumber(v)) throw new TemplateError(`"${op}" needs numbers, found ${typeName(v)} ${JSON.stringify(v)}`);
  return v;
}

function arithmetic(op: string, l: unknown, r: unknown): unknown {
  const a = numberOf(num(l, op));
  const b = numberOf(num(r, op));
  const floats = isFloat(l) || isFloat(r);
  const result = (n: number) => (floats ? float(n) : n);
  switch (op) {
    case '+':
      return result(a + b);
    case '-':
      return result(a - b);
    case '*':
      return result(a * b);
    case '/':
      if (b === 0) throw new TemplateError('division by zero');
      return float(a / b);
    case '//':
      if (b === 0) throw new TemplateError('division by zero');
      return result(Math.floor(a / b));
    case '%':
      if (b === 0) throw new TemplateError('modulo by zero');
      return result(a - b * Math.floor(a / b));
    case '**':
      return floats || b < 0 ? float(a ** b) : a ** b;
  }
  throw new TemplateError(`unknown operator ${op}`);
}

export function binary(op: string, l: unknown, r: unknown): unknown {
  switch (op) {
    case '~':
      return toText(l) + toText(r);
    case '+':
      if (typeof l === 'string' && typeof r === 'string') return l + r;
      if (Array.isArray(l) && Array.isArray(r)) return own([...l, ...r]);
      if (typeof l === 'string' || typeof r === 'string' || Array.isArray(l) || Array.isArray(r))
        throw new TemplateError(`cannot add ${typeName(l)} and ${typeName(r)} with "+" (use "~" to join text)`);
      return arithmetic(op, l, r);
    case '%':
      if (typeof l === 'string') return percentFormat(l, Array.isArray(r) && tuples.has(r) ? r : isPlainObject(r) ? [r] : [r]);
      return arithmetic(op, l, r);
    case '*':
      if (typeof l === 'string' && typeof r === 'number') return r > 0 ? l.repeat(r) : '';
      if (Array.isArray(l) && typeof r === 'number') return own(Array.from({ length: Math.max(0, r) }, () => l).flat());
      return arithmetic(op, l, r);
    default:
      return arithmetic(op, l, r);
  }
}

export function contains(container: unknown, item: unknown): boolean {
  if (typeof container === 'string') {
    if (typeof item !== 'string') throw new TemplateError(`"in <string>" needs a string on its left, found ${typeName(item)}`);
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => equal(x, item));
  if (isPlainObject(container)) return typeof item === 'string' || typeof item === 'number' ? Object.hasOwn(container, String(item)) : false;
  throw new TemplateError(`"in" needs a string, list or mapping on its right, found ${typeName(container)}`);
}

function comparison(op: string, l: unknown, r: unknown): boolean {
  switch (op) {
    case '==':
      return equal(l, r);
    case '!=':
      return !equal(l, r);
    case 'in':
      return contains(r, l);
    case 'not in':
      return !contains(r, l);
    default: {
      const c = compare(l, r, op);
      return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
    }
  }
}

function globalFunction(name: string, ev: Evaluation): Callable | undefined {
  switch (name) {
    case 'range':
      return new Callable('range', (args) => {
        const n = args.map(numberOf);
        const [start, stop, step] = n.length === 1 ? [0, n[0], 1] : [n[0], n[1], n[2] ?? 1];
        if (step === 0) throw new TemplateError('range() step cannot be zero');
        if (Math.abs((stop - start) / step) > 100000) throw new TemplateError('range() is limited to 100000 items');
        const out: number[] = [];
        for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
        return own(out);
      });
    case 'dict':
      return new Callable('dict', (args, kwargs) => {
        const from = isPlainObject(args[0])
          ? Object.entries(args[0])
          : Array.isArray(args[0])
            ? args[0].map((p) => (Array.isArray(p) && p.length === 2 ? [keyText(p[0]), p[1]] : badPair(p)))
            : [];
        return own(dict([...(from as Array<[string, unknown]>), ...Object.entries(kwargs)]));
      });
    case 'namespace':
      return new Callable('namespace', (args, kwargs) => {
        const ns = own(dict([...(isPlainObject(args[0]) ? Object.entries(args[0]) : []), ...Object.entries(kwargs)]));
        namespaces.add(ns);
        return ns;
      });
    case 'cycler':
      return new Callable('cycler', (items) => {
        let pos = 0;
        const c: Record<string, unknown> = dict([]);
        const refresh = () => Object.defineProperty(c, 'current', { value: items[pos], enumerable: true, configurable: true, writable: true });
        c.next = new Callable('cycler.next', () => {
          const v = items[pos];
          pos = (pos + 1) % items.length;
          refresh();
          return v;
        });
        c.reset = new Callable('cycler.reset', () => {
          pos = 0;
          refresh();
          return null;
        });
        refresh();
        return c;
      });
    case 'joiner':
      return new Callable('joiner', (args) => {
        let used = false;
        return new Callable('joiner', () => {
          if (used) return args[0] ?? ', ';
          used = true;
          return '';
        });
      });
    case 'lookup':
    case 'query':
    case 'q':
      return new Callable(name, (args, kwargs) => lookupPlugin(ev, name === 'lookup' && kwargs.wantlist !== true, args, kwargs));
    default:
      return undefined;
  }
}

/** Ansible's lookup plugins plumb implements: env, file, template (and the list forms through query/q). */
function lookupPlugin(ev: Evaluation, joined: boolean, args: unknown[], kwargs: Record<string, unknown>): unknown {
  const [plugin, ...terms] = args;
  const names = terms.map((t) => toText(t));
  let results: unknown[];
  // Ansible's fully qualified names (ansible.builtin.file) are the same plugins.
  switch (typeof plugin === 'string' ? plugin.replace(/^ansible\.(builtin|legacy)\./, '') : plugin) {
    case 'env':
      results = names.map((n) => {
        const env = ev.rt.scope.lookup('env');
        ev.rt.scope.readEnv?.(n);
        const v = isPlainObject(env) && Object.hasOwn(env, n) ? env[n] : undefined;
        return v ?? (Object.hasOwn(kwargs, 'default') ? kwargs.default : '');
      });
      break;
    case 'file':
      results = names.map((n) => {
        let text: string;
        try {
          text = ev.readFile('file', n).text;
        } catch (err) {
          if (kwargs.errors === 'ignore' || kwargs.errors === 'warn') return null;
          throw err;
        }
        return kwargs.rstrip === false ? text : text.replace(/\s+$/, '');
      });
      break;
    case 'template':
      results = names.map((n) => ev.renderTemplateFile(n));
      break;
    case 'vars':
      results = names.map((n) => force(ev.lookupName(n, undefined, 0)));
      break;
    case 'items':
    case 'list':
      results = terms.flatMap((t) => (Array.isArray(t) ? t : [t]));
      break;
    default:
      throw new TemplateError(
        `unknown lookup "${toText(plugin)}"; plumb has env, file, template, vars, items and list${didYouMean(String(plugin), ['env', 'file', 'template', 'vars', 'items', 'list'])}`,
      );
  }
  const kept = results.filter((r) => r !== null);
  return joined ? kept.map((r) => toText(r)).join(',') : own(kept);
}

/** Issue 13: facts exist when the play gathers them; an undefined one is off, outside gather_subset, or one plumb does not read. */
const NO_FACT = 'the play does not have it (gather_facts: false, not in gather_subset, or not a fact plumb gathers)';

/** The message for a variable that is not defined, with a suggestion. */
export function undefinedVariable(name: string, known: () => Iterable<string>): Undefined {
  // Say why a fact is missing rather than suggest a look-alike name.
  if (/^ansible_/.test(name) && !/^ansible_(host|port|user|password|connection|become|ssh_|private_key_file|python_interpreter)/.test(name))
    return new Undefined(name, `undefined variable "${name}": it is an Ansible fact, and ${NO_FACT}`);
  return new Undefined(name, () => {
    const near = closest(name, known(), 1);
    return `undefined variable "${name}"${near.length ? ` (did you mean "${near[0]}"?)` : ''}`;
  });
}

/** Render a parsed template with a fresh frame. */
export function renderNodes(nodes: Node[], rt: Runtime, extra?: Record<string, unknown>): string {
  const buf: string[] = [];
  const frame = new Frame();
  for (const [k, v] of Object.entries(extra ?? {})) frame.vars.set(k, v);
  new Evaluation(rt).run(nodes, frame, buf);
  return buf.join('');
}

/** Evaluate one expression with no template locals. */
export function evaluate(e: Expr, rt: Runtime): unknown {
  return new Evaluation(rt).eval(e);
}
