/**
 * Ansible's `key=value` argument strings (`service: name=postfix state=restarted`), read the way
 * ansible-core's parse_kv reads them: words split on whitespace except inside quotes or a Jinja
 * `{{ }}`/`{% %}`/`{# #}`; backslash escapes decoded; a word with an `=` after its first character is
 * an option whose value loses one pair of enclosing quotes; every value is a string. For command and
 * shell only Ansible's own command options are options: every other word (`FOO=1 make`,
 * `echo a=b`) stays in the command text, with its original spacing.
 */

export class KeyValueError extends Error {}

interface Word {
  text: string;
  /** The whitespace after it, as written. */
  after: string;
}

const JINJA: Array<[string, string]> = [
  ['{{', '}}'],
  ['{%', '%}'],
  ['{#', '#}'],
];

/** Split into words: whitespace separates them only outside quotes and Jinja blocks. */
function words(text: string): Word[] {
  const out: Word[] = [];
  let quote: string | null = null;
  const depth = [0, 0, 0];
  let current = '';
  let gap = '';
  const flush = () => {
    if (current !== '') out.push({ text: current, after: '' });
    current = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const outside = quote === null && depth.every((d) => d === 0);
    if (outside && (c === ' ' || c === '\n' || c === '\t')) {
      flush();
      gap += c;
      continue;
    }
    if (gap) {
      if (out.length) out[out.length - 1].after = gap;
      gap = '';
    }
    if ((c === '"' || c === "'") && text[i - 1] !== '\\') {
      if (quote === null) quote = c;
      else if (quote === c) quote = null;
    }
    JINJA.forEach(([open, close], k) => {
      if (text.startsWith(open, i)) depth[k]++;
      else if (text.startsWith(close, i) && depth[k] > 0) depth[k]--;
    });
    current += c;
  }
  flush();
  if (gap && out.length) out[out.length - 1].after = gap;
  if (quote !== null || depth.some((d) => d > 0)) {
    throw new KeyValueError('unbalanced quotes or Jinja block in key=value arguments; quote the whole value or use a mapping');
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Python-style escapes (\n, \t, \xHH, \uHHHH, \UHHHHHHHH, \\ \' \"); any other backslash stays. */
function decodeEscapes(text: string): string {
  return text.replace(/\\(U[0-9a-fA-F]{8}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[\\'"abfnrtv])/g, (all, e: string) => {
    if (e.length === 1) return SIMPLE_ESCAPES[e];
    const code = parseInt(e.slice(1), 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

/** Strip one pair of enclosing quotes, as Ansible's unquote does. */
function unquote(value: string): string {
  if (value.length > 1 && value[0] === value[value.length - 1] && (value[0] === '"' || value[0] === "'") && value[value.length - 2] !== '\\') {
    return value.slice(1, -1);
  }
  return value;
}

/** Where the option's `=` is: the first one after the first character that no backslash escapes. */
function equalsAt(word: string): number {
  for (let i = 1; i < word.length; i++) if (word[i] === '=' && word[i - 1] !== '\\') return i;
  return -1;
}

export interface KeyValues {
  options: Record<string, string>;
  /** The words that are not options, joined with their spacing (command and shell: the command). */
  free?: string;
}

/**
 * Parse `text`. With `only` (command and shell: the options Ansible takes out of a command line)
 * only those keys are options; otherwise every `k=v` word is one.
 */
export function parseKeyValues(text: string, only?: readonly string[]): KeyValues {
  const options: Record<string, string> = {};
  const free: Array<Word & { final: boolean }> = [];
  const all = words(text);
  all.forEach((word, i) => {
    const decoded = decodeEscapes(word.text);
    const at = equalsAt(decoded);
    const final = i === all.length - 1;
    if (at < 0) {
      // Only escaped `=`: a free word with them unescaped.
      free.push({ ...word, text: decoded.includes('=') ? decoded.replace(/\\=/g, '=') : word.text, final });
      return;
    }
    const key = decoded.slice(0, at);
    if (only && !only.includes(key)) {
      free.push({ ...word, final });
      return;
    }
    options[key.trim()] = unquote(decoded.slice(at + 1).trim());
  });
  if (free.length === 0) return { options };
  // Free words keep the spacing between them; an option taken out takes its own spacing along.
  const joined = free.map((w, i) => (i < free.length - 1 || w.final ? w.text + w.after : w.text)).join('');
  return { options, free: joined };
}
