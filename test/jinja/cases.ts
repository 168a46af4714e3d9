/**
 * The Jinja differential cases (test/jinja/cases/<area>.yaml), loaded once for
 * the comparison test, the difference lister and anyone measuring an engine.
 * A case is a template plus variables; Ansible (test/oracle/jinja_render.py)
 * decides what it renders to.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';

const here = fileURLToPath(new URL('.', import.meta.url));
const casesDir = resolve(here, 'cases');
/** Where relative lookup('file'|'template') names resolve (a playbook directory, for Ansible). */
export const filesDir = resolve(here, 'files');
/** The repository root, so the suite runs from any working directory. */
export const repoRoot = resolve(here, '../..');

/** The template module's options a case may set (Ansible's own spellings). */
export interface TemplateOptions {
  trim_blocks?: boolean;
  lstrip_blocks?: boolean;
  newline_sequence?: string;
  block_start_string?: string;
  block_end_string?: string;
  variable_start_string?: string;
  variable_end_string?: string;
  comment_start_string?: string;
  comment_end_string?: string;
}

export interface JinjaCase {
  /** "<area>/<name>", unique across the suite. */
  id: string;
  area: string;
  name: string;
  template: string;
  vars: Record<string, unknown>;
  options: TemplateOptions;
  /** template: a `template` task's source file; expression: a task argument string (native types kept). */
  mode: 'template' | 'expression';
  /** Environment variables set while this case renders (for lookup('env')). */
  env: Record<string, string>;
  /** The case is written to fail: both Ansible and plumb must refuse it. */
  error: boolean;
  /**
   * The variables for Python as JSON text: the same data, in the file's key order, and a
   * YAML float written with a fraction or exponent (`2.0`) stays a float there, as PyYAML
   * loads it for Ansible; JavaScript objects and numbers lose both, which the suite may expose.
   */
  oracleVars: string;
}

const caseKeys = new Set(['name', 'template', 'vars', 'options', 'mode', 'env', 'error']);

/**
 * The variables as JSON text for Python, written from the YAML nodes so that key order
 * is the file's (a JavaScript object would move "10" before "zulu"), and a float-looking
 * number (`2.0`) becomes {"__float__": ...}, which jinja_render.py turns back into a float.
 */
function oracleJson(node: unknown): string {
  if (isScalar(node)) {
    const src = node.source;
    if (typeof node.value === 'number' && typeof src === 'string' && /[.eE]|inf|nan/i.test(src)) return JSON.stringify({ __float__: String(node.value) });
    return JSON.stringify(node.value ?? null);
  }
  if (isSeq(node)) return `[${node.items.map(oracleJson).join(',')}]`;
  if (isMap(node)) return `{${node.items.map((pair) => `${JSON.stringify(String(isScalar(pair.key) ? pair.key.value : pair.key))}:${oracleJson(pair.value)}`).join(',')}}`;
  return 'null';
}

function loadArea(file: string): JinjaCase[] {
  const area = basename(file, '.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
  if (!isSeq(doc.contents)) throw new Error(`${file}: expected a list of cases`);
  return doc.contents.items.map((item, i) => {
    const raw = (item as Node).toJSON() as Record<string, unknown>;
    const where = `${file}: case ${i + 1}`;
    for (const k of Object.keys(raw)) if (!caseKeys.has(k)) throw new Error(`${where}: unknown key "${k}"`);
    if (typeof raw.name !== 'string' || typeof raw.template !== 'string') throw new Error(`${where}: name and template must be strings`);
    const mode = raw.mode ?? 'template';
    if (mode !== 'template' && mode !== 'expression') throw new Error(`${where}: mode must be template or expression`);
    const varsNode = isMap(item) ? item.get('vars', true) : undefined;
    return {
      id: `${area}/${raw.name}`,
      area,
      name: raw.name,
      template: raw.template,
      vars: (raw.vars as Record<string, unknown>) ?? {},
      options: (raw.options as TemplateOptions) ?? {},
      mode,
      env: (raw.env as Record<string, string>) ?? {},
      error: raw.error === true,
      oracleVars: varsNode ? oracleJson(varsNode) : '{}',
    };
  });
}

export function loadCases(): JinjaCase[] {
  const files = readdirSync(casesDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  const cases = files.flatMap((f) => loadArea(resolve(casesDir, f)));
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new Error(`duplicate case ${c.id}`);
    seen.add(c.id);
  }
  return cases;
}
