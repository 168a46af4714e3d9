/**
 * Jinja2's expression language, parsed into a tree that only plumb's
 * evaluator interprets: literals, variables, `.attr` and `[index]` access,
 * slices, filters, tests, calls (of template macros, `range`, `lookup` and
 * Python's string/list/dict methods that plumb implements itself — never a
 * JavaScript function), comparisons, `in`, `not`/`and`/`or`, `a if c else b`,
 * `~` and arithmetic with Python's precedence. Every node keeps its offset in
 * the template, so errors point at the template's own line and column.
 */
import { TemplateError } from './errors.js';

export type Expr =
  | { t: 'lit'; v: unknown; at: number }
  | { t: 'list' | 'tuple'; items: Expr[]; at: number }
  | { t: 'dict'; pairs: Array<[Expr, Expr]>; at: number }
  | { t: 'name'; name: string; at: number }
  | { t: 'attr'; obj: Expr; name: string; at: number }
  | { t: 'index'; obj: Expr; index: Expr; at: number }
  | { t: 'slice'; obj: Expr; start?: Expr; stop?: Expr; step?: Expr; at: number }
  | { t: 'filter'; arg: Expr | null; name: string; args: Expr[]; kwargs: Array<[string, Expr]>; at: number }
  | { t: 'test'; arg: Expr; name: string; args: Expr[]; kwargs: Array<[string, Expr]>; negate: boolean; at: number }
  | { t: 'call'; fn: Expr; args: Expr[]; kwargs: Array<[string, Expr]>; at: number }
  | { t: 'not' | 'neg' | 'pos'; e: Expr; at: number }
  | { t: 'and' | 'or'; l: Expr; r: Expr; at: number }
  | { t: 'bin'; op: BinOp; l: Expr; r: Expr; at: number }
  | { t: 'cmp'; first: Expr; ops: Array<[CmpOp, Expr]>; at: number }
  | { t: 'cond'; then: Expr; test: Expr; else?: Expr; at: number };

export type BinOp = '~' | '+' | '-' | '*' | '/' | '//' | '%' | '**';
export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in';

export type Tok =
  | { k: 'num'; v: number; float: boolean; at: number }
  | { k: 'str'; v: string; at: number }
  | { k: 'name'; v: string; at: number }
  | { k: 'op'; v: string; at: number }
  | { k: 'end'; at: number };

const OPS = ['**', '//', '==', '!=', '<=', '>=', '<', '>', '(', ')', '[', ']', '{', '}', '.', ',', ':', '|', '~', '+', '-', '*', '/', '%', '='];
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** The error for a problem at `at` (an offset in the template). */
export function syntaxError(message: string, at: number): TemplateError {
  return new TemplateError(message).atOffset(at);
}

/**
 * Read expression tokens from `src` starting at `from`, until `end` (a closing
 * delimiter such as `}}`) appears outside brackets and strings, or the text ends.
 * Returns the tokens and the offset where `end` starts (-1 when never found).
 */
export function lexExpression(src: string, from: number, ends: string[] = []): { toks: Tok[]; stop: number } {
  const toks: Tok[] = [];
  const stack: string[] = [];
  let i = from;
  while (i < src.length) {
    const c = src[i];
    if (stack.length === 0) {
      const end = ends.find((e) => src.startsWith(e, i));
      if (end !== undefined) {
        toks.push({ k: 'end', at: i });
        return { toks, stop: i };
      }
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c >= '0' && c <= '9') {
      const m = /^[0-9][0-9_]*(\.[0-9][0-9_]*)?([eE][+-]?[0-9]+)?/.exec(src.slice(i, i + 64))!;
      const text = m[0].replace(/_/g, '');
      toks.push({ k: 'num', v: Number(text), float: Boolean(m[1] || m[2]), at: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 256))!;
      toks.push({ k: 'name', v: m[0], at: i });
      i += m[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      const [value, next] = readString(src, i);
      toks.push({ k: 'str', v: value, at: i });
      i = next;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw syntaxError(`unexpected character ${JSON.stringify(c)}`, i);
    if (OPENERS[op]) stack.push(OPENERS[op]);
    else if (op === ')' || op === ']' || op === '}') {
      if (stack.pop() !== op) throw syntaxError(`unexpected "${op}"`, i);
    }
    toks.push({ k: 'op', v: op, at: i });
    i += op.length;
  }
  toks.push({ k: 'end', at: src.length });
  return { toks, stop: -1 };
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' };

/** A Python string literal: its value and the offset after it. */
function readString(src: string, start: number): [string, number] {
  const q = src[start];
  let out = '';
  let i = start + 1;
  for (;;) {
    if (i >= src.length) throw syntaxError('unterminated string', start);
    const d = src[i];
    if (d === q) return [out, i + 1];
    if (d === '\\' && i + 1 < src.length) {
      const e = src[i + 1];
      const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      if (hex && /^[0-9a-fA-F]+$/.test(src.slice(i + 2, i + 2 + hex)) && src.slice(i + 2, i + 2 + hex).length === hex) {
        out += String.fromCodePoint(parseInt(src.slice(i + 2, i + 2 + hex), 16));
        i += 2 + hex;
        continue;
      }
      if (e === '\n') {
        i += 2;
        continue;
      }
      const octal = /^[0-7]{1,3}/.exec(src.slice(i + 1, i + 4));
      if (octal) {
        out += String.fromCharCode(parseInt(octal[0], 8));
        i += 1 + octal[0].length;
        continue;
      }
      // Python keeps unknown escapes as written: '\d' is backslash, d (regexes rely on it).
      out += Object.hasOwn(ESCAPES, e) ? ESCAPES[e] : `\\${e}`;
      i += 2;
      continue;
    }
    out += d;
    i++;
  }
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else']);
const CONSTANTS: Record<string, unknown> = { true: true, True: true, false: false, False: false, none: null, None: null };

export class ExprParser {
  i = 0;
  constructor(readonly toks: Tok[]) {}

  peek(offset = 0): Tok {
    return this.toks[Math.min(this.i + offset, this.toks.length - 1)];
  }
  next(): Tok {
    return this.toks[Math.min(this.i++, this.toks.length - 1)];
  }
  isOp(v: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.k === 'op' && t.v === v;
  }
  isName(v: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.k === 'name' && t.v === v;
  }
  atEnd(): boolean {
    return this.peek().k === 'end';
  }
  expectOp(v: string): Tok {
    const t = this.next();
    if (t.k !== 'op' || t.v !== v) throw this.unexpected(t, `expected "${v}"`);
    return t;
  }
  expectName(what = 'a name'): { v: string; at: number } {
    const t = this.next();
    if (t.k !== 'name') throw this.unexpected(t, `expected ${what}`);
    return t;
  }
  unexpected(t: Tok, expected?: string): TemplateError {
    const found = t.k === 'end' ? 'end of expression' : t.k === 'str' ? JSON.stringify(t.v) : `"${t.v}"`;
    return syntaxError(`${expected ? `${expected}, found` : 'unexpected'} ${found}`, t.at);
  }

  /** A whole expression, `a if b else c` included (Jinja's parse_expression). */
  expression(withCondExpr = true): Expr {
    return withCondExpr ? this.conditional() : this.or();
  }

  /** `a, b` without brackets is a tuple (in `for` targets, `set` and output). */
  tupleOrExpression(): Expr {
    const at = this.peek().at;
    const first = this.expression();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.isOp(',')) {
      this.next();
      if (this.atEnd() || this.isOp(')')) break;
      items.push(this.expression());
    }
    return { t: 'tuple', items, at };
  }

  private conditional(): Expr {
    const then = this.or();
    if (!this.isName('if')) return then;
    const at = this.next().at;
    const test = this.or();
    if (this.isName('else')) {
      this.next();
      return { t: 'cond', then, test, else: this.conditional(), at };
    }
    return { t: 'cond', then, test, at };
  }
  private or(): Expr {
    let l = this.and();
    while (this.isName('or')) {
      const at = this.next().at;
      l = { t: 'or', l, r: this.and(), at };
    }
    return l;
  }
  private and(): Expr {
    let l = this.not();
    while (this.isName('and')) {
      const at = this.next().at;
      l = { t: 'and', l, r: this.not(), at };
    }
    return l;
  }
  private not(): Expr {
    if (this.isName('not')) {
      const at = this.next().at;
      return { t: 'not', e: this.not(), at };
    }
    return this.compare();
  }
  private compare(): Expr {
    const first = this.concat();
    const ops: Array<[CmpOp, Expr]> = [];
    for (;;) {
      const t = this.peek();
      if (t.k === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
        this.next();
        ops.push([t.v as CmpOp, this.concat()]);
      } else if (this.isName('in')) {
        this.next();
        ops.push(['in', this.concat()]);
      } else if (this.isName('not') && this.isName('in', 1)) {
        this.next();
        this.next();
        ops.push(['not in', this.concat()]);
      } else break;
    }
    return ops.length ? { t: 'cmp', first, ops, at: first.at } : first;
  }
  private concat(): Expr {
    let l = this.math1();
    while (this.isOp('~')) {
      const at = this.next().at;
      l = { t: 'bin', op: '~', l, r: this.math1(), at };
    }
    return l;
  }
  private math1(): Expr {
    let l = this.math2();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next() as { v: BinOp; at: number };
      l = { t: 'bin', op: t.v, l, r: this.math2(), at: t.at };
    }
    return l;
  }
  private math2(): Expr {
    let l = this.pow();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const t = this.next() as { v: BinOp; at: number };
      l = { t: 'bin', op: t.v, l, r: this.pow(), at: t.at };
    }
    return l;
  }
  private pow(): Expr {
    let l = this.unary();
    while (this.isOp('**')) {
      const at = this.next().at;
      l = { t: 'bin', op: '**', l, r: this.unary(), at };
    }
    return l;
  }
  /** Jinja: a sign binds tighter than a filter (`-3 | abs` is 3). */
  private unary(withFilters = true): Expr {
    let e: Expr;
    if (this.isOp('-') || this.isOp('+')) {
      const t = this.next();
      e = { t: t.k === 'op' && t.v === '-' ? 'neg' : 'pos', e: this.unary(false), at: t.at };
    } else e = this.postfix(this.primary());
    return withFilters ? this.filtersAndTests(e) : e;
  }

  /** `x | f(a) | g` and `x is test(arg)`, applied left to right after the operand's postfix. */
  private filtersAndTests(e: Expr): Expr {
    for (;;) {
      if (this.isOp('|')) {
        this.next();
        e = this.filter(e);
      } else if (this.isName('is')) {
        const at = this.next().at;
        let negate = false;
        if (this.isName('not')) {
          this.next();
          negate = true;
        }
        const name = this.testName();
        const args: Expr[] = [];
        let kwargs: Array<[string, Expr]> = [];
        if (this.isOp('(')) {
          const call = this.callArgs();
          args.push(...call.args);
          kwargs = call.kwargs;
        } else if (this.startsOperand()) {
          // Jinja: `x is divisibleby 3`, `x is sameas none` — one argument without parentheses.
          args.push(this.postfix(this.primary()));
        }
        e = { t: 'test', arg: e, name, args, kwargs, negate, at };
      } else return e;
    }
  }

  private testName(): string {
    const t = this.next();
    // Tests named like keywords or operators: `is none`, `is true`, `is in`, `is ==`? Jinja allows names only.
    if (t.k === 'name') {
      let name = t.v;
      while (this.isOp('.') && this.peek(1).k === 'name') {
        this.next();
        name += `.${(this.next() as { v: string }).v}`;
      }
      return name;
    }
    throw this.unexpected(t, 'expected a test name after "is"');
  }

  private startsOperand(): boolean {
    const t = this.peek();
    if (t.k === 'num' || t.k === 'str') return true;
    if (t.k === 'name') return !KEYWORDS.has(t.v) || t.v === 'not';
    return t.k === 'op' && (t.v === '[' || t.v === '{' || t.v === '-');
  }

  /** One filter after `|` (or in a `{% filter %}` tag); `arg` null there. */
  filter(arg: Expr | null): Expr {
    const first = this.expectName('a filter name after "|"');
    let name = first.v;
    while (this.isOp('.') && this.peek(1).k === 'name') {
      this.next();
      name += `.${(this.next() as { v: string }).v}`;
    }
    const { args, kwargs } = this.isOp('(') ? this.callArgs() : { args: [], kwargs: [] };
    return { t: 'filter', arg, name, args, kwargs, at: first.at };
  }

  /** `(a, b, key=value)` */
  callArgs(): { args: Expr[]; kwargs: Array<[string, Expr]> } {
    this.expectOp('(');
    const args: Expr[] = [];
    const kwargs: Array<[string, Expr]> = [];
    while (!this.isOp(')')) {
      if (this.peek().k === 'name' && this.isOp('=', 1)) {
        const key = (this.next() as { v: string }).v;
        this.next();
        kwargs.push([key, this.expression()]);
      } else {
        if (kwargs.length) throw syntaxError('a positional argument after a keyword argument', this.peek().at);
        args.push(this.expression());
      }
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expectOp(')');
    return { args, kwargs };
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const t = this.next();
        if (t.k === 'name') e = { t: 'attr', obj: e, name: t.v, at: t.at };
        else if (t.k === 'num' && Number.isInteger(t.v) && !t.float) e = { t: 'index', obj: e, index: { t: 'lit', v: t.v, at: t.at }, at: t.at };
        else throw this.unexpected(t, 'expected an attribute name after "."');
      } else if (this.isOp('[')) {
        const at = this.next().at;
        e = this.subscript(e, at);
      } else if (this.isOp('(')) {
        const at = this.peek().at;
        const { args, kwargs } = this.callArgs();
        e = { t: 'call', fn: e, args, kwargs, at };
      } else return e;
    }
  }

  private subscript(obj: Expr, at: number): Expr {
    const part = (): Expr | undefined => (this.isOp(':') || this.isOp(']') ? undefined : this.expression());
    const start = part();
    if (!this.isOp(':')) {
      this.expectOp(']');
      if (!start) throw syntaxError('expected an index inside [ ]', at);
      return { t: 'index', obj, index: start, at };
    }
    this.next();
    const stop = part();
    let step: Expr | undefined;
    if (this.isOp(':')) {
      this.next();
      step = part();
    }
    this.expectOp(']');
    return { t: 'slice', obj, start, stop, step, at };
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.k) {
      case 'num':
        return { t: 'lit', v: t.float && Number.isInteger(t.v) ? new PyFloat(t.v) : t.v, at: t.at };
      case 'str': {
        // Adjacent string literals concatenate, as in Python.
        let v = t.v;
        while (this.peek().k === 'str') v += (this.next() as { v: string }).v;
        return { t: 'lit', v, at: t.at };
      }
      case 'name':
        if (Object.hasOwn(CONSTANTS, t.v)) return { t: 'lit', v: CONSTANTS[t.v], at: t.at };
        if (KEYWORDS.has(t.v)) throw this.unexpected(t);
        return { t: 'name', name: t.v, at: t.at };
      case 'op':
        if (t.v === '(') {
          if (this.isOp(')')) {
            this.next();
            return { t: 'tuple', items: [], at: t.at };
          }
          const e = this.tupleOrExpression();
          this.expectOp(')');
          return e;
        }
        if (t.v === '[') {
          const items: Expr[] = [];
          while (!this.isOp(']')) {
            items.push(this.expression());
            if (!this.isOp(',')) break;
            this.next();
          }
          this.expectOp(']');
          return { t: 'list', items, at: t.at };
        }
        if (t.v === '{') {
          const pairs: Array<[Expr, Expr]> = [];
          while (!this.isOp('}')) {
            const k = this.expression();
            this.expectOp(':');
            pairs.push([k, this.expression()]);
            if (!this.isOp(',')) break;
            this.next();
          }
          this.expectOp('}');
          return { t: 'dict', pairs, at: t.at };
        }
        throw this.unexpected(t);
      case 'end':
        throw syntaxError(this.i === 1 ? 'empty expression' : 'unexpected end of expression', t.at);
    }
  }
}

/** A Python float whose value is a whole number (`4 / 2` is `2.0`): JavaScript numbers cannot tell. */
export class PyFloat {
  constructor(readonly v: number) {}
}

/** Parse a bare expression (a `when:` condition). */
export function parseExpression(src: string): Expr {
  const { toks } = lexExpression(src, 0);
  const p = new ExprParser(toks);
  const e = p.tupleOrExpression();
  if (!p.atEnd()) throw p.unexpected(p.peek());
  return e;
}

export function isTemplate(value: string): boolean {
  return value.includes('{{') || value.includes('{%') || value.includes('{#');
}
