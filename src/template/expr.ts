/**
 * Parser of the `{{ expression }}` language: a strict subset of Jinja2's
 * expressions — literals, variables, dotted and [index] access, filters,
 * comparisons, `in`, `is defined`, `not`/`and`/`or`, `a if c else b`, `~`
 * concatenation and arithmetic. There is no call syntax and no attribute
 * lookup outside plain data, so an expression can only read data.
 */
import { TemplateError } from './errors.js';

export type Expr =
  | { t: 'lit'; v: unknown }
  | { t: 'list'; items: Expr[] }
  | { t: 'name'; name: string }
  | { t: 'attr'; obj: Expr; name: string }
  | { t: 'index'; obj: Expr; index: Expr }
  | { t: 'filter'; arg: Expr; name: string; args: Expr[] }
  | { t: 'test'; arg: Expr; name: string; negate: boolean }
  | { t: 'not'; e: Expr }
  | { t: 'neg'; e: Expr }
  | { t: 'and' | 'or'; l: Expr; r: Expr }
  | { t: 'bin'; op: BinOp; l: Expr; r: Expr }
  | { t: 'cond'; then: Expr; test: Expr; else?: Expr };

type BinOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in' | '~' | '+' | '-' | '*' | '/' | '%';

type Tok =
  { k: 'num'; v: number; at: number } | { k: 'str'; v: string; at: number } | { k: 'name'; v: string; at: number } | { k: 'op'; v: string; at: number } | { k: 'end'; at: number };

const OPS = ['==', '!=', '<=', '>=', '<', '>', '(', ')', '[', ']', '.', ',', '|', '~', '+', '-', '*', '/', '%'];

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i))!;
      toks.push({ k: 'num', v: Number(m[0]), at: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ k: 'name', v: m[0], at: i });
      i += m[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      const start = i;
      let out = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new TemplateError(`unterminated string starting at ${src.slice(start, start + 10)}`);
        const d = src[i];
        if (d === c) break;
        if (d === '\\' && i + 1 < src.length) {
          const e = src[i + 1];
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
          i += 2;
          continue;
        }
        out += d;
        i++;
      }
      i++;
      toks.push({ k: 'str', v: out, at: start });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new TemplateError(`unexpected character ${JSON.stringify(c)} in expression`);
    toks.push({ k: 'op', v: op, at: i });
    i += op.length;
  }
  toks.push({ k: 'end', at: src.length });
  return toks;
}

function isWordTok(t: Tok | undefined, v: string): boolean {
  return t?.k === 'name' && t.v === v;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else']);

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly src: string,
  ) {}

  parse(): Expr {
    if (this.peek().k === 'end') throw new TemplateError('empty expression {{ }}');
    const e = this.conditional();
    const t = this.peek();
    if (t.k !== 'end') throw this.unexpected(t);
    return e;
  }

  private peek(): Tok {
    return this.toks[this.i];
  }
  private next(): Tok {
    return this.toks[this.i++];
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.k === 'op' && t.v === v;
  }
  private isWord(v: string): boolean {
    const t = this.peek();
    return t.k === 'name' && t.v === v;
  }
  private expectOp(v: string): void {
    const t = this.next();
    if (t.k !== 'op' || t.v !== v) throw new TemplateError(`expected "${v}" ${this.where(t)}`);
  }
  private where(t: Tok): string {
    return t.k === 'end' ? 'at the end of the expression' : `at ${JSON.stringify(this.src.slice(t.at, t.at + 12))}`;
  }
  private unexpected(t: Tok): TemplateError {
    return new TemplateError(`unexpected ${t.k === 'end' ? 'end of expression' : JSON.stringify(this.src.slice(t.at, t.at + 12))}`);
  }

  private conditional(): Expr {
    const then = this.or();
    if (!this.isWord('if')) return then;
    this.next();
    const test = this.or();
    if (!this.isWord('else')) return { t: 'cond', then, test };
    this.next();
    return { t: 'cond', then, test, else: this.conditional() };
  }
  private or(): Expr {
    let l = this.and();
    while (this.isWord('or')) {
      this.next();
      l = { t: 'or', l, r: this.and() };
    }
    return l;
  }
  private and(): Expr {
    let l = this.not();
    while (this.isWord('and')) {
      this.next();
      l = { t: 'and', l, r: this.not() };
    }
    return l;
  }
  private not(): Expr {
    if (this.isWord('not')) {
      this.next();
      return { t: 'not', e: this.not() };
    }
    return this.comparison();
  }
  private comparison(): Expr {
    let l = this.concat();
    for (;;) {
      const t = this.peek();
      if (t.k === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
        this.next();
        l = { t: 'bin', op: t.v as BinOp, l, r: this.concat() };
      } else if (this.isWord('in')) {
        this.next();
        l = { t: 'bin', op: 'in', l, r: this.concat() };
      } else if (this.isWord('not') && isWordTok(this.toks[this.i + 1], 'in')) {
        this.i += 2;
        l = { t: 'bin', op: 'not in', l, r: this.concat() };
      } else if (this.isWord('is')) {
        this.next();
        let negate = false;
        if (this.isWord('not')) {
          this.next();
          negate = true;
        }
        const name = this.next();
        if (name.k !== 'name') throw new TemplateError(`expected a test name after "is" ${this.where(name)}`);
        l = { t: 'test', arg: l, name: name.v, negate };
      } else {
        return l;
      }
    }
  }
  private concat(): Expr {
    let l = this.additive();
    while (this.isOp('~')) {
      this.next();
      l = { t: 'bin', op: '~', l, r: this.additive() };
    }
    return l;
  }
  private additive(): Expr {
    let l = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.next() as { v: string }).v as BinOp;
      l = { t: 'bin', op, l, r: this.multiplicative() };
    }
    return l;
  }
  private multiplicative(): Expr {
    let l = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = (this.next() as { v: string }).v as BinOp;
      l = { t: 'bin', op, l, r: this.unary() };
    }
    return l;
  }
  private unary(): Expr {
    if (this.isOp('-')) {
      this.next();
      return { t: 'neg', e: this.unary() };
    }
    return this.postfix();
  }
  private postfix(): Expr {
    let e = this.primary();
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const t = this.next();
        if (t.k === 'name') e = { t: 'attr', obj: e, name: t.v };
        else if (t.k === 'num' && Number.isInteger(t.v)) e = { t: 'index', obj: e, index: { t: 'lit', v: t.v } };
        else throw new TemplateError(`expected an attribute name after "." ${this.where(t)}`);
      } else if (this.isOp('[')) {
        this.next();
        const index = this.conditional();
        this.expectOp(']');
        e = { t: 'index', obj: e, index };
      } else if (this.isOp('|')) {
        this.next();
        const t = this.next();
        if (t.k !== 'name') throw new TemplateError(`expected a filter name after "|" ${this.where(t)}`);
        const args: Expr[] = [];
        if (this.isOp('(')) {
          this.next();
          if (!this.isOp(')')) {
            for (;;) {
              args.push(this.conditional());
              if (this.isOp(',')) {
                this.next();
                continue;
              }
              break;
            }
          }
          this.expectOp(')');
        }
        e = { t: 'filter', arg: e, name: t.v, args };
      } else if (this.isOp('(')) {
        throw new TemplateError('function calls are not supported in plumb templates; use a filter such as `x | lower`');
      } else {
        return e;
      }
    }
  }
  private primary(): Expr {
    const t = this.next();
    switch (t.k) {
      case 'num':
      case 'str':
        return { t: 'lit', v: t.v };
      case 'name':
        if (t.v === 'true' || t.v === 'True') return { t: 'lit', v: true };
        if (t.v === 'false' || t.v === 'False') return { t: 'lit', v: false };
        if (t.v === 'none' || t.v === 'None' || t.v === 'null') return { t: 'lit', v: null };
        if (KEYWORDS.has(t.v)) throw this.unexpected(t);
        return { t: 'name', name: t.v };
      case 'op':
        if (t.v === '(') {
          const e = this.conditional();
          this.expectOp(')');
          return e;
        }
        if (t.v === '[') {
          const items: Expr[] = [];
          while (!this.isOp(']')) {
            items.push(this.conditional());
            if (!this.isOp(',')) break;
            this.next();
          }
          this.expectOp(']');
          return { t: 'list', items };
        }
        throw this.unexpected(t);
      case 'end':
        throw this.unexpected(t);
    }
  }
}

export function parseExpression(src: string): Expr {
  return new Parser(lex(src), src).parse();
}

/** A template split into literal text and expressions. */
export type Part = { text: string } | { expr: Expr; source: string };

/** Split `text {{ expr }} text`; `{# comments #}` vanish; `{% statements %}` are refused. */
export function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  let text = '';
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0 || open === template.length - 1) {
      text += template.slice(i);
      break;
    }
    const kind = template[open + 1];
    if (kind !== '{' && kind !== '%' && kind !== '#') {
      text += template.slice(i, open + 1);
      i = open + 1;
      continue;
    }
    text += template.slice(i, open);
    if (kind === '%') throw new TemplateError('statements such as {% if %} and {% for %} are not supported; plumb templates hold {{ expressions }} only');
    if (kind === '#') {
      const close = template.indexOf('#}', open + 2);
      if (close < 0) throw new TemplateError('unterminated comment {# ... #}');
      i = close + 2;
      continue;
    }
    const close = findClose(template, open + 2);
    if (close < 0) throw new TemplateError(`unterminated expression ${JSON.stringify(template.slice(open, open + 30))}: missing }}`);
    const source = template.slice(open + 2, close);
    if (text) parts.push({ text });
    text = '';
    parts.push({ expr: parseExpression(source), source: source.trim() });
    i = close + 2;
  }
  if (text) parts.push({ text });
  return parts;
}

/** Index of the `}}` that ends an expression, skipping quoted strings. */
function findClose(s: string, from: number): number {
  let quote = '';
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '}' && s[i + 1] === '}') {
      return i;
    }
  }
  return -1;
}

export function isTemplate(value: string): boolean {
  return value.includes('{{') || value.includes('{%') || value.includes('{#');
}
