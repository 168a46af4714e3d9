/**
 * Python's json.dumps and PyYAML's dump as Ansible calls them (to_json,
 * to_nice_json, to_yaml, to_nice_yaml), so rendered files match byte for byte
 * in the common cases: ASCII escapes, Python's separators, sorted keys.
 */
import { TemplateError } from './errors.js';
import { isPlainObject, PyFloat, repr, typeName } from './py.js';

function jsonString(s: string, ascii: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const c = s.charCodeAt(i);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || (ascii && c > 0x7e)) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

export interface JsonOptions {
  indent?: number;
  sortKeys?: boolean;
  ensureAscii?: boolean;
  itemSep?: string;
  keySep?: string;
}

export function pyJson(v: unknown, o: JsonOptions = {}, level = 0): string {
  const ascii = o.ensureAscii ?? true;
  const itemSep = o.itemSep ?? (o.indent === undefined ? ', ' : ',');
  const keySep = o.keySep ?? ': ';
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'number' || v instanceof PyFloat) {
    const r = repr(v);
    return r === 'nan' ? 'NaN' : r === 'inf' ? 'Infinity' : r === '-inf' ? '-Infinity' : r;
  }
  if (typeof v === 'string') return jsonString(v, ascii);
  const nl = o.indent === undefined ? '' : `\n${' '.repeat(o.indent * (level + 1))}`;
  const end = o.indent === undefined ? '' : `\n${' '.repeat(o.indent * level)}`;
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return `[${nl}${v.map((x) => pyJson(x, o, level + 1)).join(itemSep + nl)}${end}]`;
  }
  if (isPlainObject(v)) {
    let keys = Object.keys(v);
    if (!keys.length) return '{}';
    if (o.sortKeys) keys = keys.sort();
    return `{${nl}${keys.map((k) => `${jsonString(k, ascii)}${keySep}${pyJson(v[k], o, level + 1)}`).join(itemSep + nl)}${end}}`;
  }
  throw new TemplateError(`${typeName(v)} cannot be written as JSON`);
}

/** PyYAML resolves these plain scalars to other types, so a string spelled like them is quoted. */
const RESOLVES =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|\d{4}-\d\d?-\d\d?(?:[Tt]|\s+)?.*|=|<<)$/;

function yamlScalar(s: string): string {
  if (s === '') return "''";
  const needsDouble = /[\x00-\x08\x0b-\x1f\x7f\n]/.test(s) || /[\u0080-\u009f\ufeff]/.test(s);
  if (needsDouble) return pyJson(s, { ensureAscii: false }).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
  const plain = !RESOLVES.test(s) && !/^[-?:,[\]{}#&*!|>'"%@`]/.test(s) && !/^[-?:](\s|$)/.test(s) && !/[\s]$/.test(s) && !/^\s/.test(s) && !/: |:$| #|\t/.test(s);
  return plain ? s : `'${s.replace(/'/g, "''")}'`;
}

function yamlLeaf(v: unknown): string | undefined {
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'number' || v instanceof PyFloat) {
    const r = repr(v);
    return r === 'nan' ? '.nan' : r === 'inf' ? '.inf' : r === '-inf' ? '-.inf' : r;
  }
  if (typeof v === 'string') return yamlScalar(v);
  return undefined;
}

function flow(v: unknown): string {
  const leaf = yamlLeaf(v);
  if (leaf !== undefined) return leaf;
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  if (isPlainObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${yamlScalar(k)}: ${flow(v[k])}`)
      .join(', ')}}`;
  throw new TemplateError(`${typeName(v)} cannot be written as YAML`);
}

const isCollection = (v: unknown) => Array.isArray(v) || isPlainObject(v);

/**
 * yaml.dump(v, default_flow_style=…, indent=…): block style, with (flowLeaves) the innermost
 * collections in flow style as PyYAML's default_flow_style=None does. Sequences inside a mapping
 * are not indented, as PyYAML writes them.
 */
function block(v: unknown, indent: number, flowLeaves: boolean, col: number): string[] {
  if (Array.isArray(v)) {
    if (!v.length) return ['[]'];
    if (flowLeaves && !v.some(isCollection)) return [flow(v)];
    // PyYAML pads the dash of a mapping item to the indent: "-   a: 1" at indent 4; a scalar item is "- 25".
    return v.flatMap((x) => {
      const nested = isPlainObject(x) && Object.keys(x).length > 0;
      const inner = block(x, indent, flowLeaves, col + (nested ? indent : 2));
      return [`${' '.repeat(col)}${nested ? '-'.padEnd(indent) : '- '}${inner[0].trimStart()}`, ...inner.slice(1)];
    });
  }
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    if (!keys.length) return ['{}'];
    if (flowLeaves && !keys.some((k) => isCollection(v[k]))) return [flow(v)];
    return keys.flatMap((k) => {
      const x = v[k];
      const head = `${' '.repeat(col)}${yamlScalar(k)}:`;
      if (!isCollection(x) || (Array.isArray(x) ? !x.length : !Object.keys(x).length)) return [`${head} ${yamlLeaf(x) ?? (Array.isArray(x) ? '[]' : '{}')}`];
      if (flowLeaves && !(Array.isArray(x) ? x : Object.values(x)).some(isCollection)) return [`${head} ${flow(x)}`];
      return [head, ...block(x, indent, flowLeaves, Array.isArray(x) ? col : col + indent)];
    });
  }
  return [`${' '.repeat(col)}${yamlLeaf(v)}`];
}

export function pyYaml(v: unknown, opts: { indent?: number; flow?: boolean } = {}): string {
  if (!isCollection(v)) return `${yamlLeaf(v)}\n...\n`;
  const lines = block(v, opts.indent ?? 2, opts.flow ?? true, 0);
  return `${lines.join('\n')}\n`;
}
