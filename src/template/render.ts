/**
 * Rendering of Jinja templates in strings, whole values and template files.
 * Variables may themselves be templates ("relayhost: '[{{ relay_host }}]:{{ relay_port }}'"):
 * they are rendered lazily on first use, once, with cycle detection.
 */
import type { SourcePos } from '../source/pos.js';
import { TemplateError } from './errors.js';
import { evaluate, force, makeEnv, renderNodes, toText, truthy, undefinedVariable, type FileHost, type Lookup } from './evaluate.js';
import { isTemplate, parseExpression, type Expr } from './expr.js';
import { DEFAULT_SYNTAX, parseTemplate, type Syntax } from './parse.js';
import { plain } from './py.js';

export interface ScopeOptions {
  /** Environment for `env.NAME` (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where each variable was defined, for errors inside its value. */
  positions?: Map<string, SourcePos>;
  /** Local files for lookup('file'|'template') and {% include %}. */
  files?: FileHost;
}

/** How a template file is rendered (the template module's options). */
export interface FileRenderOptions {
  /** The template's path, for errors at its own line and column. */
  file?: string;
  syntax?: Syntax;
  /** Variables only this template sees (template_path, ansible_managed, …). */
  extra?: Record<string, unknown>;
  files?: FileHost;
}

/** What one tracked render read: every variable, directly or through other variables' values. */
export interface Tracked<T> {
  value: T;
  reads: Set<string>;
}

/** One templated string inside a rendered value. */
export interface RenderedLeaf {
  /** Where it sits, e.g. ['name', 0] for the first package of apt's name list. */
  path: Array<string | number>;
  template: string;
  value: unknown;
  /** Every variable it was computed from, transitively. */
  reads: Set<string>;
}

export class VarScope implements Lookup {
  private readonly resolved = new Map<string, unknown>();
  private readonly resolving: string[] = [];
  /** Per resolved variable, the variables its value was computed from (transitively). */
  private readonly sources = new Map<string, Set<string>>();
  /** Open tracking frames, innermost last: each collects the variables read while it is open. */
  private readonly frames: Set<string>[] = [];
  private readonly env: Record<string, string>;
  private readonly positions: Map<string, SourcePos>;
  /** Local files for lookups; a task's context sets its own search directories. */
  files?: FileHost;

  constructor(
    private readonly raw: Record<string, unknown>,
    options: ScopeOptions = {},
  ) {
    this.env = makeEnv(options.env ?? process.env);
    this.positions = options.positions ?? new Map();
    this.files = options.files;
  }

  /** Give a variable its final value (already rendered): it is not rendered again. */
  setResolved(name: string, value: unknown): void {
    this.resolved.set(name, value);
  }

  names(): string[] {
    return [...new Set([...Object.keys(this.raw), ...this.resolved.keys(), 'env'])];
  }

  /**
   * Run `fn` and report every variable it read, including the variables those
   * variables' values were rendered from (`a: "{{ b }}"` read through `a` reports a and b).
   * Secrecy and the provenance of a rendered argument are both computed from this.
   */
  track<T>(fn: () => T): Tracked<T> {
    const reads = new Set<string>();
    this.frames.push(reads);
    try {
      return { value: fn(), reads };
    } finally {
      this.frames.pop();
    }
  }

  /** The variables `name`'s value was computed from (empty until it has been resolved). */
  sourcesOf(name: string): ReadonlySet<string> {
    return this.sources.get(name) ?? new Set();
  }

  private noteRead(name: string): void {
    const frame = this.frames.at(-1);
    if (!frame) return;
    frame.add(name);
    for (const s of this.sources.get(name) ?? []) frame.add(s);
  }

  /** `env.NAME` is recorded as a read of its own, so provenance names the environment variable. */
  readEnv(name: string): void {
    this.noteRead(`env.${name}`);
  }

  lookup(name: string): unknown {
    this.noteRead(name);
    if (name === 'env') return this.env;
    if (this.resolved.has(name)) return this.resolved.get(name);
    if (!Object.hasOwn(this.raw, name)) return undefinedVariable(name, () => this.names());
    const loop = this.resolving.indexOf(name);
    if (loop >= 0) throw new TemplateError(`variable cycle: ${[...this.resolving.slice(loop), name].join(' → ')}`, this.positions.get(name));
    this.resolving.push(name);
    let value: unknown;
    try {
      const tracked = this.track(() => this.render(this.raw[name], this.positions.get(name)));
      value = tracked.value;
      this.sources.set(name, tracked.reads);
      // The reader of `name` read everything `name` was made of.
      for (const s of tracked.reads) this.frames.at(-1)?.add(s);
    } catch (err) {
      if (err instanceof TemplateError && !err.pos) throw new TemplateError(`${err.detail} (in variable "${name}")`, this.positions.get(name));
      throw err;
    } finally {
      this.resolving.pop();
    }
    this.resolved.set(name, value);
    return value;
  }

  /** Deep-render: strings are templates; mappings and lists are rendered item by item; keys are kept. */
  render(value: unknown, pos?: SourcePos): unknown {
    if (typeof value === 'string') return this.renderText(value, pos);
    if (Array.isArray(value)) return value.map((v) => this.render(v, pos));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      // defineProperty: a key named __proto__ must stay data, never set the prototype.
      for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: this.render(v, pos), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return value;
  }

  /**
   * Deep-render like `render`, tracking each templated string leaf on its own:
   * where it sits in the value, and which variables it was computed from.
   * Leaves that were not templates are not listed (they read nothing).
   */
  renderLeaves(value: unknown, pos?: SourcePos): { value: unknown; leaves: RenderedLeaf[] } {
    const leaves: RenderedLeaf[] = [];
    const walk = (v: unknown, path: Array<string | number>): unknown => {
      if (typeof v === 'string') {
        if (!isTemplate(v)) return v;
        const { value: out, reads } = this.track(() => this.renderText(v, pos));
        leaves.push({ path, template: v, value: out, reads });
        return out;
      }
      if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
      if (v !== null && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: walk(x, [...path, k]), enumerable: true, writable: true, configurable: true });
        return out;
      }
      return v;
    };
    return { value: walk(value, []), leaves };
  }

  /** A string that is exactly one `{{ expr }}` keeps the value's type (a port stays a number), like Ansible. */
  private renderText(text: string, pos?: SourcePos): unknown {
    if (!isTemplate(text)) return text;
    try {
      const nodes = parseTemplate(text);
      if (nodes.length === 1 && nodes[0].n === 'out') return plain(force(evaluate(nodes[0].e, { scope: this, files: this.files })));
      return ansibleNewlines(text, (source) => renderNodes(parseTemplate(source), { scope: this, files: this.files }));
    } catch (err) {
      if (err instanceof TemplateError) throw err.at(pos);
      throw err;
    }
  }

  /**
   * Render a template file's text (the template module): statements, the
   * module's whitespace options, and errors at the file's own line and column.
   */
  renderFile(text: string, options: FileRenderOptions = {}): string {
    try {
      return ansibleNewlines(text, (source) =>
        renderNodes(parseTemplate(source, options.syntax ?? DEFAULT_SYNTAX), { scope: this, files: options.files ?? this.files, syntax: options.syntax }, options.extra),
      );
    } catch (err) {
      if (err instanceof TemplateError && options.file) throw err.inFile(options.file, text);
      throw err;
    }
  }

  /** Evaluate a bare condition (`when: relay_enabled and x == 'y'`). */
  condition(expr: string | boolean, pos?: SourcePos): boolean {
    if (typeof expr === 'boolean') return expr;
    try {
      const value = evaluate(cachedExpression(expr), { scope: this, files: this.files });
      return truthy(value);
    } catch (err) {
      if (err instanceof TemplateError) throw err.at(pos);
      throw err;
    }
  }
}

/**
 * What Ansible's Templar does around Jinja: line endings become \n, Jinja drops the
 * source's final newline, and the output is padded back to as many trailing newlines
 * as the source had (so a file ending in `{% endfor %}\n` still ends in \n).
 */
function ansibleNewlines(text: string, render: (source: string) => string): string {
  const source = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  const out = render(source.endsWith('\n') ? source.slice(0, -1) : source);
  const want = trailingNewlines(source);
  const have = trailingNewlines(out);
  return want > have ? out + '\n'.repeat(want - have) : out;
}

function trailingNewlines(s: string): number {
  let n = 0;
  while (n < s.length && s[s.length - 1 - n] === '\n') n++;
  return n;
}

function scopeOf(vars: Record<string, unknown> | VarScope): VarScope {
  return vars instanceof VarScope ? vars : new VarScope(vars);
}

/** Render a template to a string; an undefined variable is a TemplateError naming it (and `pos`). */
export function renderString(template: string, vars: Record<string, unknown> | VarScope, pos?: SourcePos): string {
  return toText(scopeOf(vars).render(template, pos));
}

/** Deep-render any value (strings in mappings and lists too). */
export function renderValue(value: unknown, vars: Record<string, unknown> | VarScope, pos?: SourcePos): unknown {
  return scopeOf(vars).render(value, pos);
}

/** Ansible's `when:` — a bare expression, `{{ }}` around it tolerated. */
export function evaluateCondition(expr: string | boolean, vars: Record<string, unknown> | VarScope, pos?: SourcePos): boolean {
  return scopeOf(vars).condition(expr, pos);
}

/** Check syntax only (validate does this for every string it loads). */
export function checkTemplate(text: string, syntax?: Syntax): void {
  if (isTemplate(text) || syntax) parseTemplate(text, syntax);
}
export function checkCondition(expr: string): void {
  cachedExpression(expr);
}

const expressions = new Map<string, Expr>();

function cachedExpression(text: string): Expr {
  let e = expressions.get(text);
  if (!e) {
    const bare = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(text);
    e = parseExpression(bare ? bare[1] : text);
    if (expressions.size > 5000) expressions.clear();
    expressions.set(text, e);
  }
  return e;
}
