/**
 * Python `re` patterns as JavaScript ones, for the modules that edit text the way Ansible's do
 * (replace, blockinfile). The template engine's pyRegex keeps JavaScript's meaning of `.`, `^`
 * and `$`, which is enough for filters; a file edit needs Python's: `.` stops only at `\n` (a
 * CRLF file's `\r` is an ordinary character), `^`/`$` under MULTILINE see only `\n` as a line
 * end, and a bare `$` also matches before a final newline. Those are rewritten here token by
 * token. What JavaScript cannot say (verbose mode, scoped inline flags, conditionals) is refused
 * with a message rather than run with another meaning.
 */

export interface PyFlags {
  multiline?: boolean;
  dotall?: boolean;
  ignorecase?: boolean;
}

export class PyRegexError extends Error {}

const START = '(?<![\\s\\S])';
/** Python's \w on text: every letter and digit of Unicode (str.isalnum) and _. Needs the u flag. */
const WORD = '[\\p{L}\\p{N}_]';
const UNICODE_ESCAPES: Record<string, string> = {
  w: WORD,
  W: '[^\\p{L}\\p{N}_]',
  d: '\\p{Nd}',
  D: '\\P{Nd}',
  b: `(?:(?<=${WORD})(?!${WORD})|(?<!${WORD})(?=${WORD}))`,
  B: `(?:(?<=${WORD})(?=${WORD})|(?<!${WORD})(?!${WORD}))`,
};
/** Inside a class only the positive ones can be spelled as members. */
const UNICODE_CLASS_MEMBERS: Record<string, string> = { w: '\\p{L}\\p{N}_', d: '\\p{Nd}' };
const END = '(?![\\s\\S])';

/** Translate `pattern` under `flags` (plus its leading inline flags); throws PyRegexError. */
export function translatePyRegex(pattern: string, flags: PyFlags = {}, unicode = false): { source: string; flags: Required<PyFlags> } {
  const f: Required<PyFlags> = { multiline: !!flags.multiline, dotall: !!flags.dotall, ignorecase: !!flags.ignorecase };
  let i = 0;
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
  if (inline) {
    for (const c of inline[1]) {
      if (c === 'm') f.multiline = true;
      else if (c === 's') f.dotall = true;
      else if (c === 'i') f.ignorecase = true;
      else throw new PyRegexError(`the inline flag (?${c}) has no JavaScript equivalent`);
    }
    i = inline[0].length;
  }
  let out = '';
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw new PyRegexError('ends with a lone backslash');
      if (next === 'A') out += START;
      else if (next === 'Z') out += END;
      else if (unicode && next in UNICODE_ESCAPES) out += UNICODE_ESCAPES[next];
      else out += c + next;
      i += 2;
    } else if (c === '[') {
      const end = classEnd(pattern, i);
      let body = pattern.slice(i + 1, end);
      // Python reads a ] first in a class as a literal; JavaScript as the end of an empty class.
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      if (body.startsWith(']')) body = '\\' + body;
      if (unicode) body = body.replace(/\\(.)/g, (all, e: string) => UNICODE_CLASS_MEMBERS[e] ?? all);
      out += `[${negated ? '^' : ''}${body}]`;
      i = end + 1;
    } else if (c === '.') {
      out += f.dotall ? '[\\s\\S]' : '[^\\n]';
      i++;
    } else if (c === '^') {
      out += f.multiline ? '(?<![^\\n])' : START;
      i++;
    } else if (c === '$') {
      out += f.multiline ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))';
      i++;
    } else if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i);
      const named = /^\(\?P<([A-Za-z_]\w*)>/.exec(rest);
      const ref = /^\(\?P=([A-Za-z_]\w*)\)/.exec(rest);
      const comment = /^\(\?#[^)]*\)/.exec(rest);
      if (named) {
        out += `(?<${named[1]}>`;
        i += named[0].length;
      } else if (ref) {
        out += `\\k<${ref[1]}>`;
        i += ref[0].length;
      } else if (comment) {
        i += comment[0].length;
      } else if (/^\(\?(?::|=|!|<=|<!)/.test(rest)) {
        const head = /^\(\?(?::|=|!|<=|<!)/.exec(rest)![0];
        out += head;
        i += head.length;
      } else {
        throw new PyRegexError(`${rest.slice(0, 4)}… (inline flags after the start, conditionals, …) has no JavaScript equivalent`);
      }
    } else {
      out += c;
      i++;
    }
  }
  return { source: out, flags: f };
}

/** The index of the `]` closing the class opened at `open`. */
function classEnd(pattern: string, open: number): number {
  let j = open + 1;
  if (pattern[j] === '^') j++;
  if (pattern[j] === ']') j++;
  for (; j < pattern.length; j++) {
    if (pattern[j] === '\\') j++;
    else if (pattern[j] === ']') return j;
  }
  throw new PyRegexError('a character class [ is not closed');
}

/**
 * A Python pattern as a JavaScript RegExp (`extra` flags such as g added); throws PyRegexError.
 * Unicode mode first, where \w and \d mean what Python's do; a pattern only the lenient mode
 * reads (an escaped - outside a class, say) falls back to it and its ASCII \w.
 */
export function pyRegExp(pattern: string, flags: PyFlags = {}, extra = ''): RegExp {
  const t = translatePyRegex(pattern, flags, true);
  const js = (t.flags.ignorecase ? 'i' : '') + extra;
  try {
    return new RegExp(t.source, js + 'u');
  } catch {
    try {
      return new RegExp(translatePyRegex(pattern, flags).source, js);
    } catch (e) {
      throw new PyRegexError((e as Error).message.replace(/^Invalid regular expression: /, ''));
    }
  }
}

/** Why `pattern` cannot be used, or undefined. */
export function pyRegexProblem(pattern: string, flags: PyFlags = {}): string | undefined {
  try {
    pyRegExp(pattern, flags);
    return undefined;
  } catch (e) {
    return `not a usable regular expression: ${(e as Error).message}`;
  }
}

/** Why a replacement template is refused (a group that cannot exist), or undefined. */
export function pyTemplateProblem(template: string): string | undefined {
  if (/\\g<(?!\w+>)/.test(template)) return 'a \\g< group reference is not closed';
  return undefined;
}
