/**
 * Ansible's INI inventory format, read as Ansible 2.14 reads it:
 *   hosts before any section   → group `ungrouped`
 *   [group]                    → hosts, one per line: `name[:port] [key=value ...]`
 *   [group:children]           → child group names (declared in this file or loaded before)
 *   [group:vars]               → `key=value` lines for the group
 * Host names expand ranges (`web[01:20]`, `db-[a:c]`, `[1:10:2]`). Inline host
 * values are split like a shell (quotes, backslashes, `#` comments) and typed
 * by Python's literal rules (pythonLiteral); a `[group:vars]` value is the
 * rest of the line, typed the same way, comments included.
 * Every problem points at file:line:column.
 */
import type { DiagnosticList } from '../source/diagnostics.js';
import type { SourcePos } from '../source/pos.js';
import { closest, didYouMean } from '../source/suggest.js';
import { NAME, type InventoryBuilder } from './builder.js';
import { checkVariable } from './connection.js';
import { iniValue } from './python-literal.js';

/** A range like h[0:999999] would make a million hosts: refuse what no hand-written inventory means. */
export const MAX_RANGE_HOSTS = 10000;

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_LINE = /^([^:\]\s]+)\s*(?:#.*)?$/;

interface Pending {
  pos: SourcePos & { length?: number };
  /** The message, given every group declared by the end of the file (for "did you mean"). */
  message: (declared: Set<string>) => string;
}

/** Parse one INI inventory into `b`; problems go to `diags`. */
export function parseIni(file: string, text: string, b: InventoryBuilder, diags: DiagnosticList, hide: (line: number, column: number, length: number) => void): void {
  const declared = new Set(b.groups.keys());
  // Groups named by [g:children] or [g:vars] before any [g] or [g:children] header: Ansible requires one in the same file.
  const pending = new Map<string, Pending>();
  let group = b.group('ungrouped', { file, line: 1, column: 1 });
  let state: 'hosts' | 'children' | 'vars' = 'hosts';
  const lines = text.split(/\r?\n|\r/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === ';') return;
    const at = (column: number, length = 1): SourcePos & { length?: number } => ({ file, line: lineNo, column: indent + column, length });

    const m = SECTION.exec(line);
    if (m) {
      const [, name, kind] = m;
      if (kind !== undefined && !['hosts', 'children', 'vars'].includes(kind)) {
        const kinds = ['children', 'vars', 'hosts'];
        const lower = kind.toLowerCase();
        const near = kinds.filter((k) => k.startsWith(lower) || lower.startsWith(k)).concat(closest(kind, kinds, 1));
        diags.error(
          at(name.length + 3, kind.length),
          `unknown section type ":${kind}"${near.length ? ` (did you mean ":${near[0]}"?)` : ''}; a section is [group], [group:children] or [group:vars]`,
        );
        state = 'hosts';
        group = b.group(name, at(2, name.length));
        return;
      }
      state = (kind ?? 'hosts') as typeof state;
      if (!checkName(name, 'group', at(2, name.length), diags)) return;
      group = b.group(name, at(2, name.length));
      if (state !== 'vars') {
        declared.add(name);
        pending.delete(name);
      } else if (!declared.has(name) && !pending.has(name)) {
        pending.set(name, {
          pos: at(2, name.length),
          message: (all) => `[${name}:vars] sets variables of a group that is declared nowhere: add a [${name}] section (it may be empty) or fix the name${didYouMean(name, all)}`,
        });
      }
      return;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      diags.error(at(1, line.length), `invalid section header ${line}: a group name has no spaces, ":" or "]"; write [name], [name:children] or [name:vars]`);
      return;
    }

    if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) {
        diags.error(at(1, line.length), `expected name=value in [${group.name}:vars], found ${JSON.stringify(line)}`);
        return;
      }
      const key = line.slice(0, eq).trim();
      const valueText = line.slice(eq + 1).trim();
      const valueCol = eq + 2 + (line.slice(eq + 1).length - line.slice(eq + 1).trimStart().length);
      const value = iniValue(valueText);
      const ok = checkVariable(key, value, { name: at(1, Math.max(1, key.length)), value: at(valueCol, Math.max(1, valueText.length)) }, diags, () =>
        hide(lineNo, indent + valueCol, valueText.length),
      );
      if (typeof value === 'string' && /\s[#;]/.test(value)) {
        diags.warning(
          at(valueCol + value.search(/\s[#;]/) + 1, 1),
          `the value of ${key} includes ${JSON.stringify(value.slice(value.search(/\s[#;]/) + 1))}: in a [group:vars] section Ansible keeps the rest of the line, comment included; put comments on their own line`,
        );
      }
      if (ok) group.vars[key] = value;
      return;
    }

    if (state === 'children') {
      const c = GROUP_LINE.exec(line);
      if (!c) {
        diags.error(at(1, line.length), `expected one group name per line in [${group.name}:children], found ${JSON.stringify(line)}`);
        return;
      }
      const name = c[1];
      if (name === 'all') {
        diags.error(at(1, 3), '"all" contains every group; it cannot be a child');
        return;
      }
      if (!checkName(name, 'group', at(1, name.length), diags)) return;
      if (!declared.has(name) && !pending.has(name)) {
        pending.set(name, {
          pos: at(1, name.length),
          message: (all) => `[${group.name}:children] names group "${name}", which is declared nowhere: add a [${name}] section (it may be empty)${didYouMean(name, all)}`,
        });
      }
      b.addChild(group, b.group(name, at(1, name.length)));
      return;
    }

    hostLine(line, at, group, b, diags, (line2, col, len) => hide(line2 ?? lineNo, indent + col, len));
  });
  for (const p of pending.values()) diags.error(p.pos, p.message(declared));
}

function checkName(name: string, what: string, pos: SourcePos & { length?: number }, diags: DiagnosticList): boolean {
  if (NAME.test(name)) return true;
  diags.error(pos, `invalid ${what} name "${name}": use letters, digits and . _ - @`);
  return false;
}

function hostLine(
  line: string,
  at: (column: number, length?: number) => SourcePos & { length?: number },
  group: ReturnType<InventoryBuilder['group']>,
  b: InventoryBuilder,
  diags: DiagnosticList,
  hide: (line: number | undefined, column: number, length: number) => void,
): void {
  const split = shellWords(line);
  if ('error' in split) {
    diags.error(at(split.column), `${split.error} (values with spaces are quoted: key="a b")`);
    return;
  }
  const [first, ...rest] = split.words;
  if (!first) return; // only a comment after whitespace
  const pattern = first.text;
  if (pattern === '---') {
    diags.error(at(first.column, 3), '"---" starts a YAML document: this file is not valid YAML (see the YAML error) nor an INI inventory');
    return;
  }
  const { hosts: names, port, error } = expandHostPattern(pattern);
  if (error) {
    diags.error(at(first.column, pattern.length), `host ${JSON.stringify(pattern)}: ${error}`);
    return;
  }
  const vars: Record<string, unknown> = {};
  let ok = true;
  for (const w of rest) {
    const eq = w.text.indexOf('=');
    if (eq < 0) {
      diags.error(at(w.column, w.text.length), `expected key=value after the host name, found ${JSON.stringify(w.text)} (one host per line; quote a value with spaces: key="a b")`);
      ok = false;
      continue;
    }
    const key = w.text.slice(0, eq);
    const value = iniValue(w.text.slice(eq + 1));
    if (
      checkVariable(key, value, { name: at(w.column, Math.max(1, key.length)), value: at(w.column + eq + 1, Math.max(1, w.length - eq - 1)) }, diags, () =>
        hide(undefined, w.column + eq + 1, w.length - eq - 1),
      )
    )
      vars[key] = value;
    else ok = false;
  }
  if (port !== undefined) vars.ansible_port = port;
  for (const name of names!) {
    if (!NAME.test(name)) {
      diags.error(at(first.column, pattern.length), `invalid host name "${name}": use letters, digits and . _ - (ranges as web[01:20])`);
      return;
    }
  }
  if (!ok) return;
  for (const name of names!) {
    const h = b.host(name, at(first.column, pattern.length));
    b.addHost(group, h);
    Object.assign(h.vars, vars);
  }
}

interface Word {
  text: string;
  /** 1-based column of the word's first character in the trimmed line. */
  column: number;
  /** Characters the word spans in the line (quotes included). */
  length: number;
}

/**
 * Split a host line the way Python's shlex.split(line, comments=True) does:
 * whitespace separates, '…' is literal, "…" honours \" and \\, a backslash
 * outside quotes escapes the next character, and # starts a comment (outside quotes).
 */
export function shellWords(line: string): { words: Word[] } | { error: string; column: number } {
  const words: Word[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /[ \t\r\n]/.test(line[i])) i++;
    if (i >= line.length || line[i] === '#') break;
    const start = i;
    let text = '';
    let comment = false;
    while (i < line.length && !/[ \t\r\n]/.test(line[i])) {
      const c = line[i];
      if (c === '#') {
        comment = true;
        break;
      }
      if (c === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) return { error: 'no closing quotation', column: i + 1 };
        text += line.slice(i + 1, end);
        i = end + 1;
      } else if (c === '"') {
        let j = i + 1;
        for (;;) {
          if (j >= line.length) return { error: 'no closing quotation', column: i + 1 };
          if (line[j] === '"') break;
          if (line[j] === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) {
            text += line[j + 1];
            j += 2;
          } else {
            text += line[j++];
          }
        }
        i = j + 1;
      } else if (c === '\\') {
        if (i + 1 >= line.length) return { error: 'a backslash at the end of the line escapes nothing', column: i + 1 };
        text += line[i + 1];
        i += 2;
      } else {
        text += c;
        i++;
      }
    }
    words.push({ text, column: start + 1, length: i - start });
    if (comment) break;
  }
  return { words };
}

/**
 * `name[:port]` with ranges expanded: `web[01:03]` → web01 web02 web03,
 * `db-[a:c]`, `[1:10:3]` with a stride; `[host]:port` for IPv6 and friends.
 */
export function expandHostPattern(pattern: string): { hosts?: string[]; port?: number; error?: string } {
  let name = pattern;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(pattern);
  const plain = /^(.*):(\d+)$/.exec(pattern);
  if (bracketed) {
    name = bracketed[1];
    port = Number(bracketed[2]);
  } else if (plain && !/:/.test(plain[1].replace(/\[[^\]]*\]/g, ''))) {
    name = plain[1];
    port = Number(plain[2]);
  } else if (pattern.endsWith(':')) {
    return { error: 'a trailing ":" needs a port number after it (name:2222)' };
  }
  if (port !== undefined && (port < 1 || port > 65535)) return { error: `port ${port} is out of range 1-65535` };
  try {
    const hosts: string[] = [];
    expandRanges(name, hosts);
    return { hosts, port };
  } catch (err) {
    if (err instanceof RangeProblem) return { error: err.message };
    throw err;
  }
}

class RangeProblem extends Error {}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function expandRanges(name: string, out: string[]): void {
  const open = name.indexOf('[');
  if (open < 0 || isIpv6(name)) {
    out.push(name);
    return;
  }
  const close = name.indexOf(']', open);
  if (close < 0) throw new RangeProblem('a range "[" is not closed with "]"');
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const bounds = name.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new RangeProblem('a range is [begin:end] or [begin:end:step], e.g. web[01:20] or db-[a:c]');
  const [beg0, end, stepText = '1'] = bounds;
  const beg = beg0 === '' ? '0' : beg0;
  if (end === '') throw new RangeProblem('a range needs an end value: [begin:end]');
  if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw new RangeProblem(`the range step ${JSON.stringify(stepText)} must be a whole number above 0`);
  const step = Number(stepText);
  let items: string[];
  if (LETTERS.includes(beg) && beg.length === 1 && LETTERS.includes(end) && end.length === 1) {
    const i = LETTERS.indexOf(beg);
    const j = LETTERS.indexOf(end);
    if (i > j) throw new RangeProblem(`the range [${beg}:${end}] must go up (begin <= end)`);
    items = [];
    for (let k = i; k <= j; k += step) items.push(LETTERS[k]);
  } else {
    if (!/^\d+$/.test(beg) || !/^\d+$/.test(end)) throw new RangeProblem(`[${bounds.join(':')}] is not a range: use numbers ([1:20], [01:20]) or single letters ([a:f])`);
    const width = beg.length > 1 && beg[0] === '0' ? beg.length : 0;
    if (width && width !== end.length) throw new RangeProblem(`a zero-padded range needs begin and end of the same width ([01:20], not [${beg}:${end}])`);
    const from = Number(beg);
    const to = Number(end);
    const count = to < from ? 0 : Math.floor((to - from) / step) + 1;
    if (count > MAX_RANGE_HOSTS) throw new RangeProblem(`the range makes ${count} hosts; plumb expands at most ${MAX_RANGE_HOSTS} per line`);
    items = [];
    for (let k = from; k <= to; k += step) items.push(width ? String(k).padStart(width, '0') : String(k));
  }
  for (const item of items) {
    expandRanges(head + item + tail, out);
    if (out.length > MAX_RANGE_HOSTS) throw new RangeProblem(`the ranges make more than ${MAX_RANGE_HOSTS} hosts; plumb expands at most ${MAX_RANGE_HOSTS} per line`);
  }
}

function isIpv6(name: string): boolean {
  return /^[0-9a-fA-F:]+$/.test(name) && name.includes('::');
}
