/**
 * Values in an Ansible INI inventory are typed the way Ansible types them:
 * Python's `ast.literal_eval`, and the text itself when that fails. So
 * `port=2222` is a number, `debug=True` a boolean, `mode=0644` stays the
 * string "0644" (a leading zero is a syntax error in Python 3), `yes` stays
 * "yes", and `"1"` in a `[group:vars]` line is the string 1's quotes removed.
 * This is a small reader of that literal grammar, not an evaluator: anything
 * outside it (names, calls, operators) is "not a literal".
 */

/** Python literal → JSON-shaped value, or `undefined` when the text is not a literal (Ansible keeps the text). */
export function pythonLiteral(text: string): unknown {
  let tokens: Token[];
  try {
    tokens = tokenize(text.replace(/^[ \t]+/, ''));
  } catch (err) {
    if (err instanceof NotLiteral) return undefined;
    throw err;
  }
  const p = new Parser(tokens);
  try {
    const value = p.expressionList();
    if (!p.atEnd()) return undefined;
    return value;
  } catch (err) {
    if (err instanceof NotLiteral) return undefined;
    throw err;
  }
}

/** The value Ansible's INI plugin stores for `text`: the literal when there is one, else the text. */
export function iniValue(text: string): unknown {
  const v = pythonLiteral(text);
  return v === undefined ? text : v;
}

class NotLiteral extends Error {}

type Token = { kind: 'num'; value: number } | { kind: 'str'; value: string } | { kind: 'name'; value: string } | { kind: 'op'; value: string };

const NUMBER = [
  /^0[xX](?:_?[0-9a-fA-F])+/,
  /^0[oO](?:_?[0-7])+/,
  /^0[bB](?:_?[01])+/,
  /^(?:\d(?:_?\d)*\.(?:\d(?:_?\d)*)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?/,
  /^\d(?:_?\d)*[eE][+-]?\d(?:_?\d)*/,
  /^(?:[1-9](?:_?\d)*|0(?:_?0)*)/,
];

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\f') {
      i++;
    } else if (c === '#') {
      break;
    } else if ('[](){},:+-'.includes(c)) {
      out.push({ kind: 'op', value: c });
      i++;
    } else if (/[0-9.]/.test(c)) {
      const rest = text.slice(i);
      const m = NUMBER.map((re) => re.exec(rest)).find((x) => x !== null);
      if (!m) throw new NotLiteral();
      const raw = m[0];
      const after = rest[raw.length];
      // `0644`, `1j`, `12abc`: Python refuses these (or makes a complex number, which has no JSON form).
      if (after !== undefined && /[0-9A-Za-z_.]/.test(after)) throw new NotLiteral();
      out.push({ kind: 'num', value: numberValue(raw) });
      i += raw.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^([rRbBuUfF]{1,2})?(['"])/.exec(text.slice(i));
      if (m) {
        const prefix = (m[1] ?? '').toLowerCase();
        if (!/^(r|u|b|br|rb)?$/.test(prefix)) throw new NotLiteral(); // f-strings are not literals
        const { value, end } = readString(text, i + prefix.length, prefix.includes('r'));
        out.push({ kind: 'str', value });
        i = end;
      } else {
        const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))![0];
        out.push({ kind: 'name', value: name });
        i += name.length;
      }
    } else if (c === '"' || c === "'") {
      const { value, end } = readString(text, i, false);
      out.push({ kind: 'str', value });
      i = end;
    } else {
      throw new NotLiteral();
    }
  }
  return out;
}

function numberValue(raw: string): number {
  const t = raw.replace(/_/g, '');
  if (/^0[xX]/.test(t)) return parseInt(t.slice(2), 16);
  if (/^0[oO]/.test(t)) return parseInt(t.slice(2), 8);
  if (/^0[bB]/.test(t)) return parseInt(t.slice(2), 2);
  return Number(t);
}

/** One quoted string starting at `start` (the quote); Python's escapes unless raw. */
function readString(text: string, start: number, raw: boolean): { value: string; end: number } {
  const q = text[start];
  const triple = text.startsWith(q.repeat(3), start);
  const close = triple ? q.repeat(3) : q;
  let i = start + close.length;
  let value = '';
  while (i < text.length) {
    if (text.startsWith(close, i)) return { value, end: i + close.length };
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      if (raw) {
        value += c + text[i + 1];
        i += 2;
        continue;
      }
      const { out, len } = escape(text, i + 1);
      value += out;
      i += 1 + len;
      continue;
    }
    value += c;
    i++;
  }
  throw new NotLiteral(); // unterminated
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };

function escape(text: string, at: number): { out: string; len: number } {
  const c = text[at];
  if (Object.hasOwn(SIMPLE_ESCAPES, c)) return { out: SIMPLE_ESCAPES[c], len: 1 };
  const oct = /^[0-7]{1,3}/.exec(text.slice(at));
  if (oct) return { out: String.fromCodePoint(parseInt(oct[0], 8)), len: oct[0].length };
  const hex =
    c === 'x' ? /^x([0-9a-fA-F]{2})/.exec(text.slice(at)) : c === 'u' ? /^u([0-9a-fA-F]{4})/.exec(text.slice(at)) : c === 'U' ? /^U([0-9a-fA-F]{8})/.exec(text.slice(at)) : null;
  if (hex) {
    const cp = parseInt(hex[1], 16);
    if (cp > 0x10ffff) throw new NotLiteral();
    return { out: String.fromCodePoint(cp), len: hex[0].length };
  }
  if ('xuUN'.includes(c)) throw new NotLiteral(); // a malformed escape is a SyntaxError in Python
  return { out: `\\${c}`, len: 1 }; // unknown escapes keep their backslash
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  atEnd(): boolean {
    return this.i >= this.tokens.length;
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private isOp(value: string): boolean {
    const t = this.peek();
    return t?.kind === 'op' && t.value === value;
  }

  private expect(value: string): void {
    if (!this.isOp(value)) throw new NotLiteral();
    this.i++;
  }

  /** `a, b` at the top is a tuple, as in `ast.literal_eval("1, 2")`. */
  expressionList(): unknown {
    if (this.atEnd()) throw new NotLiteral();
    const first = this.value();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.isOp(',')) {
      this.i++;
      if (this.atEnd()) break;
      items.push(this.value());
    }
    return items;
  }

  private value(): unknown {
    const t = this.peek();
    if (!t) throw new NotLiteral();
    this.i++;
    if (t.kind === 'num') return t.value;
    if (t.kind === 'str') {
      let s = t.value;
      // Adjacent literals concatenate: 'a' "b" is 'ab'.
      while (this.peek()?.kind === 'str') s += (this.tokens[this.i++] as { value: string }).value;
      return s;
    }
    if (t.kind === 'name') {
      if (t.value === 'True') return true;
      if (t.value === 'False') return false;
      if (t.value === 'None') return null;
      // `set()` is the one call literal_eval accepts: the empty set.
      if (t.value === 'set' && this.isOp('(') && this.tokens[this.i + 1]?.kind === 'op' && (this.tokens[this.i + 1] as { value: string }).value === ')') {
        this.i += 2;
        return [];
      }
      throw new NotLiteral();
    }
    switch (t.value) {
      case '+':
      case '-': {
        const n = this.peek();
        if (n?.kind !== 'num') throw new NotLiteral(); // only a sign directly on a number
        this.i++;
        return t.value === '-' ? -n.value : n.value;
      }
      case '[':
        return this.sequence(']');
      case '(': {
        if (this.isOp(')')) {
          this.i++;
          return [];
        }
        const first = this.value();
        if (this.isOp(')')) {
          this.i++;
          return first; // parentheses, not a tuple
        }
        this.expect(',');
        const rest = this.isOp(')') ? [] : (this.sequence(')') as unknown[]);
        if (rest.length === 0) this.expect(')');
        return [first, ...rest];
      }
      case '{':
        return this.braces();
      default:
        throw new NotLiteral();
    }
  }

  /** Items up to `close`, trailing comma allowed. */
  private sequence(close: string): unknown[] {
    const items: unknown[] = [];
    while (!this.isOp(close)) {
      items.push(this.value());
      if (this.isOp(',')) this.i++;
      else if (!this.isOp(close)) throw new NotLiteral();
    }
    this.i++;
    return items;
  }

  /** `{}` and `{k: v}` are dicts, `{a, b}` a set (shown as a list). */
  private braces(): unknown {
    if (this.isOp('}')) {
      this.i++;
      return {};
    }
    const first = this.value();
    if (!this.isOp(':')) {
      const items = [first];
      while (this.isOp(',')) {
        this.i++;
        if (this.isOp('}')) break;
        items.push(this.value());
      }
      this.expect('}');
      return [...new Set(items)];
    }
    const out: Record<string, unknown> = {};
    let key = first;
    for (;;) {
      this.expect(':');
      if (key !== null && typeof key === 'object') throw new NotLiteral(); // unhashable key
      out[String(key)] = this.value();
      if (this.isOp(',')) this.i++;
      else if (!this.isOp('}')) throw new NotLiteral();
      if (this.isOp('}')) break;
      key = this.value();
    }
    this.i++;
    return out;
  }
}
