/**
 * Jinja2 templates: text, `{{ expressions }}`, `{% statements %}` and
 * `{# comments #}`, with Jinja's whitespace control (`{%-`, `-%}`, `+%}`,
 * trim_blocks, lstrip_blocks) and configurable delimiters, parsed into a
 * tree of nodes. Statements: if/elif/else, for (with else, a filter
 * condition and tuple targets), set (also block set and namespace
 * attributes), macro, filter blocks, with, raw and include.
 */
import { ExprParser, lexExpression, syntaxError, type Expr, type Tok } from './expr.js';

export interface Syntax {
  blockStart: string;
  blockEnd: string;
  variableStart: string;
  variableEnd: string;
  commentStart: string;
  commentEnd: string;
  /** Remove the first newline after a block or comment tag (Ansible's template module: true). */
  trimBlocks: boolean;
  /** Remove spaces and tabs before a block or comment tag that starts its line. */
  lstripBlocks: boolean;
}

export const DEFAULT_SYNTAX: Syntax = {
  blockStart: '{%',
  blockEnd: '%}',
  variableStart: '{{',
  variableEnd: '}}',
  commentStart: '{#',
  commentEnd: '#}',
  trimBlocks: true,
  lstripBlocks: false,
};

/** Where a `set` or `for` writes: plain names (several for a tuple) or `ns.attr`. */
export type Target = { names: string[] } | { ns: string; attr: string };

export type Node =
  | { n: 'text'; text: string }
  | { n: 'out'; e: Expr; at: number }
  | { n: 'if'; branches: Array<{ test: Expr; body: Node[] }>; else?: Node[]; at: number }
  | { n: 'for'; target: Target; iter: Expr; cond?: Expr; recursive: boolean; body: Node[]; else?: Node[]; at: number }
  | { n: 'callblock'; params: string[]; call: Expr; body: Node[]; at: number }
  | { n: 'set'; target: Target; e: Expr; at: number }
  | { n: 'setblock'; name: string; filters: Expr[]; body: Node[]; at: number }
  | { n: 'macro'; name: string; params: Array<{ name: string; def?: Expr }>; body: Node[]; at: number }
  | { n: 'filterblock'; filters: Expr[]; body: Node[]; at: number }
  | { n: 'with'; assigns: Array<[Target, Expr]>; body: Node[]; at: number }
  | { n: 'include'; e: Expr; ignoreMissing: boolean; at: number };

type Segment = { k: 'text'; text: string } | { k: 'var' | 'block'; toks: Tok[]; at: number };

/** Split the template into text and tags, applying whitespace control. */
function segments(src: string, s: Syntax): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  /** Whitespace to drop at the start of the next text: 'all' after `-%}`, 'newline' for trim_blocks. */
  let stripNext: 'all' | 'newline' | '' = '';
  const pushText = (text: string) => {
    if (stripNext === 'all') text = text.replace(/^\s+/, '');
    else if (stripNext === 'newline') text = text.replace(/^\r?\n/, '');
    stripNext = '';
    if (text) out.push({ k: 'text', text });
  };
  while (pos <= src.length) {
    const open = nextOpening(src, pos, s);
    if (!open) {
      pushText(src.slice(pos));
      break;
    }
    let text = src.slice(pos, open.at);
    let inner = open.at + open.delim.length;
    const marker = src[inner];
    if (marker === '-') {
      text = text.replace(/\s+$/, '');
      inner++;
    } else if (marker === '+') {
      inner++;
    } else if (s.lstripBlocks && open.kind !== 'var') {
      const m = /(^|\n)[ \t]+$/.exec(text);
      if (m) text = text.slice(0, m.index + m[1].length);
    }
    pushText(text);
    if (open.kind === 'comment') {
      const close = src.indexOf(s.commentEnd, inner);
      if (close < 0) throw syntaxError(`unterminated comment: missing ${s.commentEnd}`, open.at);
      pos = close + s.commentEnd.length;
      stripNext = src[close - 1] === '-' ? 'all' : s.trimBlocks && src[close - 1] !== '+' ? 'newline' : '';
      continue;
    }
    const end = open.kind === 'var' ? s.variableEnd : s.blockEnd;
    const { toks, stop } = lexExpression(src, inner, [`-${end}`, `+${end}`, end]);
    if (stop < 0) throw syntaxError(`unterminated ${open.kind === 'var' ? 'expression' : 'statement'}: missing ${end}`, open.at);
    const sign = src[stop] === '-' || src[stop] === '+' ? src[stop] : '';
    pos = stop + sign.length + end.length;
    stripNext = sign === '-' ? 'all' : open.kind === 'block' && s.trimBlocks && sign !== '+' ? 'newline' : '';
    if (open.kind === 'block' && toks[0]?.k === 'name' && toks[0].v === 'raw') {
      // Jinja trims no newline after {% raw %} (only `-%}` strips).
      const raw = readRaw(src, pos, open.at, s);
      stripNext = sign === '-' ? 'all' : '';
      pushText(raw.text);
      pos = raw.next;
      stripNext = raw.stripNext;
      continue;
    }
    out.push({ k: open.kind, toks, at: open.at });
  }
  return out;
}

function nextOpening(src: string, from: number, s: Syntax): { at: number; kind: 'var' | 'block' | 'comment'; delim: string } | undefined {
  let best: { at: number; kind: 'var' | 'block' | 'comment'; delim: string } | undefined;
  for (const [kind, delim] of [
    ['var', s.variableStart],
    ['block', s.blockStart],
    ['comment', s.commentStart],
  ] as const) {
    const at = src.indexOf(delim, from);
    if (at >= 0 && (!best || at < best.at || (at === best.at && delim.length > best.delim.length))) best = { at, kind, delim };
  }
  return best;
}

/** The literal text of `{% raw %}…{% endraw %}`, and where the template continues. */
function readRaw(src: string, from: number, openAt: number, s: Syntax): { text: string; next: number; stripNext: 'all' | 'newline' | '' } {
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${esc(s.blockStart)}([-+]?)\\s*endraw\\s*([-+]?)${esc(s.blockEnd)}`, 'g');
  re.lastIndex = from;
  const m = re.exec(src);
  if (!m) throw syntaxError('missing {% endraw %} for this {% raw %}', openAt);
  let text = src.slice(from, m.index);
  if (m[1] === '-') text = text.replace(/\s+$/, '');
  else if (m[1] !== '+' && s.lstripBlocks) text = text.replace(/(^|\n)[ \t]+$/, '$1');
  return { text, next: m.index + m[0].length, stripNext: m[2] === '-' ? 'all' : s.trimBlocks && m[2] !== '+' ? 'newline' : '' };
}

const cache = new Map<string, Node[]>();

/** Parse a template (cached by text and syntax). */
export function parseTemplate(src: string, syntax: Syntax = DEFAULT_SYNTAX): Node[] {
  const key = syntax === DEFAULT_SYNTAX ? src : `${JSON.stringify(syntax)}\0${src}`;
  let nodes = cache.get(key);
  if (!nodes) {
    nodes = new TemplateParser(segments(src, syntax)).parseAll();
    if (cache.size > 5000) cache.clear();
    cache.set(key, nodes);
  }
  return nodes;
}

const OPENING: Record<string, string> = { if: 'endif', for: 'endfor', macro: 'endmacro', filter: 'endfilter', with: 'endwith', set: 'endset', call: 'endcall' };

class TemplateParser {
  private i = 0;
  constructor(private readonly segs: Segment[]) {}

  parseAll(): Node[] {
    const { body, end } = this.body([]);
    if (end) throw syntaxError(`unexpected {% ${end.word} %}`, end.at);
    return body;
  }

  /** Nodes until one of `ends` (a block tag's first word); returns that tag's parser too. */
  private body(ends: string[], opener?: { word: string; at: number }): { body: Node[]; end?: { word: string; at: number; p: ExprParser } } {
    const body: Node[] = [];
    while (this.i < this.segs.length) {
      const seg = this.segs[this.i++];
      if (seg.k === 'text') {
        body.push({ n: 'text', text: seg.text });
        continue;
      }
      const p = new ExprParser(seg.toks);
      if (seg.k === 'var') {
        const e = p.tupleOrExpression();
        if (!p.atEnd()) throw p.unexpected(p.peek());
        body.push({ n: 'out', e, at: seg.at });
        continue;
      }
      const word = p.expectName('a statement name');
      if (ends.includes(word.v)) return { body, end: { word: word.v, at: seg.at, p } };
      if (/^end|^(elif|else)$/.test(word.v)) {
        const expected = opener ? `; the open {% ${opener.word} %} needs {% ${OPENING[opener.word] ?? 'end'} %}` : '';
        throw syntaxError(`unexpected {% ${word.v} %}${expected}`, seg.at);
      }
      body.push(this.statement(word.v, p, seg.at));
    }
    if (opener) throw syntaxError(`{% ${opener.word} %} is never closed: missing {% ${OPENING[opener.word]} %}`, opener.at);
    return { body };
  }

  private done(p: ExprParser): void {
    if (!p.atEnd()) throw p.unexpected(p.peek());
  }

  private statement(word: string, p: ExprParser, at: number): Node {
    const opener = { word, at };
    switch (word) {
      case 'if': {
        const branches: Array<{ test: Expr; body: Node[] }> = [];
        let test = p.expression();
        this.done(p);
        for (;;) {
          const r = this.body(['elif', 'else', 'endif'], opener);
          branches.push({ test, body: r.body });
          const end = r.end!;
          if (end.word === 'endif') return this.finish(end.p, { n: 'if', branches, at });
          if (end.word === 'else') {
            this.done(end.p);
            const rest = this.body(['endif'], opener);
            this.done(rest.end!.p);
            return { n: 'if', branches, else: rest.body, at };
          }
          test = end.p.expression();
          this.done(end.p);
        }
      }
      case 'for': {
        const target = this.target(p, true);
        if (!p.isName('in')) throw p.unexpected(p.peek(), 'expected "in"');
        p.next();
        const iter = p.expression(false);
        let cond: Expr | undefined;
        if (p.isName('if')) {
          p.next();
          cond = p.expression();
        }
        const recursive = p.isName('recursive');
        if (recursive) p.next();
        this.done(p);
        const r = this.body(['else', 'endfor'], opener);
        if (r.end!.word === 'endfor') return this.finish(r.end!.p, { n: 'for', target, iter, cond, recursive, body: r.body, at });
        this.done(r.end!.p);
        const rest = this.body(['endfor'], opener);
        return this.finish(rest.end!.p, { n: 'for', target, iter, cond, recursive, body: r.body, else: rest.body, at });
      }
      case 'set': {
        const target = this.target(p, true);
        if (p.isOp('=')) {
          p.next();
          const e = p.tupleOrExpression();
          this.done(p);
          return { n: 'set', target, e, at };
        }
        if (!('names' in target) || target.names.length !== 1) throw p.unexpected(p.peek(), 'expected "="');
        const filters: Expr[] = [];
        while (p.isOp('|')) {
          p.next();
          filters.push(p.filter(null));
        }
        this.done(p);
        const r = this.body(['endset'], opener);
        return this.finish(r.end!.p, { n: 'setblock', name: target.names[0], filters, body: r.body, at });
      }
      case 'macro': {
        const name = p.expectName('a macro name').v;
        p.expectOp('(');
        const params: Array<{ name: string; def?: Expr }> = [];
        while (!p.isOp(')')) {
          const param = p.expectName('a parameter name').v;
          let def: Expr | undefined;
          if (p.isOp('=')) {
            p.next();
            def = p.expression();
          }
          params.push({ name: param, def });
          if (!p.isOp(',')) break;
          p.next();
        }
        p.expectOp(')');
        this.done(p);
        const r = this.body(['endmacro'], opener);
        return this.finish(r.end!.p, { n: 'macro', name, params, body: r.body, at });
      }
      case 'filter': {
        const filters = [p.filter(null)];
        while (p.isOp('|')) {
          p.next();
          filters.push(p.filter(null));
        }
        this.done(p);
        const r = this.body(['endfilter'], opener);
        return this.finish(r.end!.p, { n: 'filterblock', filters, body: r.body, at });
      }
      case 'with': {
        const assigns: Array<[Target, Expr]> = [];
        while (!p.atEnd()) {
          const target = this.target(p, false);
          p.expectOp('=');
          assigns.push([target, p.expression()]);
          if (!p.isOp(',')) break;
          p.next();
        }
        this.done(p);
        const r = this.body(['endwith'], opener);
        return this.finish(r.end!.p, { n: 'with', assigns, body: r.body, at });
      }
      case 'include': {
        const e = p.expression();
        let ignoreMissing = false;
        if (p.isName('ignore') && p.isName('missing', 1)) {
          p.next();
          p.next();
          ignoreMissing = true;
        }
        // Jinja's default: the included template sees the current context.
        if ((p.isName('with') || p.isName('without')) && p.isName('context', 1)) {
          p.next();
          p.next();
        }
        this.done(p);
        return { n: 'include', e, ignoreMissing, at };
      }
      case 'extends':
      case 'block':
      case 'import':
      case 'call': {
        // {% call(a, b) macro(args) %}body{% endcall %}: the body is the macro's caller().
        const params: string[] = [];
        if (p.isOp('(')) {
          p.next();
          while (!p.isOp(')')) {
            params.push(p.expectName('a parameter name').v);
            if (!p.isOp(',')) break;
            p.next();
          }
          p.expectOp(')');
        }
        const call = p.expression();
        if (call.t !== 'call') throw syntaxError('{% call %} needs a macro call such as {% call m(x) %}', at);
        this.done(p);
        const r = this.body(['endcall'], opener);
        return this.finish(r.end!.p, { n: 'callblock', params, call, body: r.body, at });
      }
      case 'from':
        throw syntaxError(`{% ${word} %} is not supported in plumb templates (use macros and include)`, at);
      default:
        throw syntaxError(`unknown statement {% ${word} %}`, at);
    }
  }

  private finish(p: ExprParser, node: Node): Node {
    this.done(p);
    return node;
  }

  private target(p: ExprParser, tuple: boolean): Target {
    const first = p.expectName('a variable name');
    if (p.isOp('.')) {
      p.next();
      return { ns: first.v, attr: p.expectName('an attribute name').v };
    }
    const names = [first.v];
    while (tuple && p.isOp(',')) {
      p.next();
      names.push(p.expectName('a variable name').v);
    }
    return { names };
  }
}
