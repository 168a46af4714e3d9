/**
 * What `plumb validate` learns from template files: a `template` task's
 * `src` is found in the same search directories as at run time, parsed with
 * the task's own Jinja options, and its syntax errors are reported at the
 * template file's line and column. Undefined variables are reported only when
 * provably undefined: not a variable of the host, not a fact (`ansible_*`),
 * and not a name written anywhere in the loaded playbook, roles or inventory
 * (which covers registered results, set_fact, loop_var and include vars).
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Task } from './model.js';
import { TemplateError, lineColumn } from '../template/errors.js';
import { FILTERS } from '../template/filters.js';
import type { Expr } from '../template/expr.js';
import { DEFAULT_SYNTAX, parseTemplate, type Node, type Syntax } from '../template/parse.js';
import { TESTS } from '../template/tests.js';

/**
 * Ansible's lookup of a relative `src`: in each search directory (the role's,
 * the including file's, the playbook's), first under `templates/` (template)
 * or `files/` (copy), then the directory itself. When none exists the first
 * candidate is read, so the error names where it was expected.
 */
export function findLocal(path: string, task: Pick<Task, 'module' | 'searchDirs'>): string {
  if (isAbsolute(path) || !task.searchDirs?.length) return path;
  const sub = task.module === 'template' ? 'templates' : 'files';
  const candidates = task.searchDirs.flatMap((d) => [join(d, sub, path), join(d, path)]);
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/** The Jinja syntax a template task's arguments ask for. */
export function syntaxOf(args: Record<string, unknown>): Syntax {
  const s = (k: string, def: string) => (typeof args[k] === 'string' ? (args[k] as string) : def);
  return {
    blockStart: s('block_start_string', DEFAULT_SYNTAX.blockStart),
    blockEnd: s('block_end_string', DEFAULT_SYNTAX.blockEnd),
    variableStart: s('variable_start_string', DEFAULT_SYNTAX.variableStart),
    variableEnd: s('variable_end_string', DEFAULT_SYNTAX.variableEnd),
    commentStart: s('comment_start_string', DEFAULT_SYNTAX.commentStart),
    commentEnd: s('comment_end_string', DEFAULT_SYNTAX.commentEnd),
    trimBlocks: args.trim_blocks !== false,
    lstripBlocks: args.lstrip_blocks === true,
  };
}

export interface TemplateProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Names a template file may read without any variable defining them. */
const PROVIDED = new Set([
  'range',
  'dict',
  'namespace',
  'lookup',
  'query',
  'q',
  'loop',
  'item',
  'ansible_managed',
  'template_host',
  'template_path',
  'template_fullpath',
  'template_destpath',
  'template_uid',
  'template_run_date',
  'omit',
  'hostvars',
  'groups',
  'group_names',
  'inventory_hostname',
  'env',
  'true',
  'false',
  'none',
]);

export interface TemplateCheck {
  /** The template file's path as shown in messages, and its text for caret excerpts. */
  file: string;
  text: string;
  problems: TemplateProblem[];
}

/**
 * Parse a template file and report what is provably wrong. `known` tells whether a
 * variable name is defined for the host; `written` whether the name appears in the project's YAML.
 */
export function checkTemplateFile(
  path: string,
  shown: string,
  syntax: Syntax,
  known: (name: string) => boolean,
  written: (name: string) => boolean,
  /** Where a static lookup('file'|'template', 'name') would read; absent: lookups are not checked. */
  lookupPath?: (kind: LookupKind, name: string) => string,
): TemplateCheck {
  const text = readFileSync(path, 'utf8');
  const problems: TemplateProblem[] = [];
  const at: Report = (offset: number, message: string) => problems.push({ file: shown, ...lineColumn(text, offset), message });
  if (lookupPath)
    at.lookup = (kind, name, offset) => {
      const found = lookupPath(kind, name);
      if (!existsSync(found)) at(offset, `lookup('${kind}', '${name}'): no such local file (looked for ${found})`);
    };
  let nodes: Node[];
  try {
    nodes = parseTemplate(text, syntax);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    at(err.offset ?? 0, err.detail);
    return { file: shown, text, problems };
  }
  const free = new Map<string, number>();
  walkNodes(nodes, new Set(), free, at);
  for (const [name, offset] of free) {
    if (known(name) || PROVIDED.has(name) || name.startsWith('ansible_') || written(name)) continue;
    at(offset, `undefined variable "${name}": no play, role, inventory or task defines it`);
  }
  return { file: shown, text, problems };
}

type LookupKind = 'file' | 'template';

/** What a check reports; `lookup` is told of each lookup whose plugin and name are literal. */
type Report = ((offset: number, message: string) => void) & { lookup?: (kind: LookupKind, name: string, offset: number) => void };

/** `lookup('file', 'motd')`, `query('ansible.builtin.template', 'x.j2')`: the plugin and name when both are literal. */
function staticLookup(e: Extract<Expr, { t: 'call' }>): { kind: LookupKind; name: string } | undefined {
  if (e.fn.t !== 'name' || !['lookup', 'query', 'q'].includes(e.fn.name)) return undefined;
  const [plugin, name] = e.args;
  if (plugin?.t !== 'lit' || typeof plugin.v !== 'string' || name?.t !== 'lit' || typeof name.v !== 'string') return undefined;
  const kind = plugin.v.replace(/^ansible\.(builtin|legacy)\./, '');
  return kind === 'file' || kind === 'template' ? { kind, name: name.v } : undefined;
}

const GUARDS = new Set(['default', 'd', 'mandatory', 'ansible.builtin.default', 'ansible.builtin.mandatory']);

function targetNames(t: { names: string[] } | { ns: string; attr: string }): string[] {
  return 'names' in t ? t.names : [];
}

function walkNodes(nodes: Node[], bound: Set<string>, free: Map<string, number>, report: Report): void {
  const local = new Set(bound);
  for (const node of nodes) {
    switch (node.n) {
      case 'text':
        break;
      case 'out':
        exprNames(node.e, local, free, report);
        break;
      case 'if':
        for (const b of node.branches) {
          exprNames(b.test, local, free, report);
          walkNodes(b.body, local, free, report);
        }
        if (node.else) walkNodes(node.else, local, free, report);
        break;
      case 'for': {
        exprNames(node.iter, local, free, report);
        const inner = new Set([...local, ...targetNames(node.target), 'loop']);
        if (node.cond) exprNames(node.cond, inner, free, report);
        walkNodes(node.body, inner, free, report);
        if (node.else) walkNodes(node.else, local, free, report);
        break;
      }
      case 'set':
        exprNames(node.e, local, free, report);
        if ('ns' in node.target && !local.has(node.target.ns) && !free.has(node.target.ns)) free.set(node.target.ns, node.at);
        for (const n of targetNames(node.target)) local.add(n);
        break;
      case 'setblock':
        walkNodes(node.body, local, free, report);
        for (const f of node.filters) exprNames(f, local, free, report);
        local.add(node.name);
        break;
      case 'macro': {
        local.add(node.name);
        const inner = new Set([...local, ...node.params.map((x) => x.name), 'varargs', 'kwargs', 'caller']);
        for (const x of node.params) if (x.def) exprNames(x.def, local, free, report);
        walkNodes(node.body, inner, free, report);
        break;
      }
      case 'filterblock':
        walkNodes(node.body, local, free, report);
        for (const f of node.filters) exprNames(f, local, free, report);
        break;
      case 'with': {
        const inner = new Set(local);
        for (const [t, e] of node.assigns) {
          exprNames(e, local, free, report);
          for (const n of targetNames(t)) inner.add(n);
        }
        walkNodes(node.body, inner, free, report);
        break;
      }
      case 'include':
        exprNames(node.e, local, free, report);
        break;
      case 'callblock':
        exprNames(node.call, local, free, report);
        walkNodes(node.body, new Set([...local, ...node.params]), free, report);
        break;
    }
  }
}

function exprNames(e: Expr, bound: Set<string>, free: Map<string, number>, report: Report): void {
  switch (e.t) {
    case 'lit':
      return;
    case 'name':
      if (!bound.has(e.name) && !free.has(e.name)) free.set(e.name, e.at);
      return;
    case 'list':
    case 'tuple':
      for (const x of e.items) exprNames(x, bound, free, report);
      return;
    case 'dict':
      for (const [k, v] of e.pairs) {
        exprNames(k, bound, free, report);
        exprNames(v, bound, free, report);
      }
      return;
    case 'attr':
      return exprNames(e.obj, bound, free, report);
    case 'index':
      exprNames(e.obj, bound, free, report);
      return exprNames(e.index, bound, free, report);
    case 'slice':
      for (const x of [e.obj, e.start, e.stop, e.step]) if (x) exprNames(x, bound, free, report);
      return;
    case 'filter':
      if (!Object.hasOwn(FILTERS, e.name)) report(e.at, `unknown filter "${e.name}"`);
      // `x | default(…)` and `x | mandatory` are how a template says x may be undefined.
      if (e.arg && GUARDS.has(e.name)) {
        exprNames(e.arg, bound, new Map(), report);
        for (const x of [...e.args, ...e.kwargs.map(([, v]) => v)]) exprNames(x, bound, free, report);
        return;
      }
      if (e.arg) exprNames(e.arg, bound, free, report);
      for (const x of [...e.args, ...e.kwargs.map(([, v]) => v)]) exprNames(x, bound, free, report);
      return;
    case 'test':
      if (!Object.hasOwn(TESTS, e.name)) report(e.at, `unknown test "is ${e.name}"`);
      if (e.name === 'defined' || e.name === 'undefined') return exprNames(e.arg, bound, new Map(), report);
      exprNames(e.arg, bound, free, report);
      for (const x of e.args) exprNames(x, bound, free, report);
      return;
    case 'call': {
      const lookup = staticLookup(e);
      if (lookup) report.lookup?.(lookup.kind, lookup.name, e.fn.at);
      exprNames(e.fn, bound, free, report);
      for (const x of [...e.args, ...e.kwargs.map(([, v]) => v)]) exprNames(x, bound, free, report);
      return;
    }
    case 'not':
    case 'neg':
    case 'pos':
      return exprNames(e.e, bound, free, report);
    case 'and':
    case 'or':
    case 'bin':
      exprNames(e.l, bound, free, report);
      return exprNames(e.r, bound, free, report);
    case 'cmp':
      exprNames(e.first, bound, free, report);
      for (const [, x] of e.ops) exprNames(x, bound, free, report);
      return;
    case 'cond':
      exprNames(e.test, bound, free, report);
      exprNames(e.then, bound, free, report);
      if (e.else) exprNames(e.else, bound, free, report);
      return;
  }
}

/** Everything the validate pass needs to check a template task's file. */
export interface TemplateTaskContext {
  /** The playbook's directory: a playbook task's relative `src` is found from there. */
  baseDir: string;
  /** Where the task's `src` argument was written (for a missing file). */
  srcPos: { file: string; line: number; column: number; length?: number };
  known: (name: string) => boolean;
  written: (name: string) => boolean;
  /** Template texts by shown path, for caret excerpts. */
  sources: Map<string, string>;
}

/** Check one `template` task's source file; the problems found, positioned. */
export function checkTemplateTask(task: Task, ctx: TemplateTaskContext): TemplateProblem[] {
  const args = task.args as Record<string, unknown>;
  const src = args.src;
  if (typeof src !== 'string' || src.includes('{{') || src.includes('{%')) return [];
  const found = findLocal(src, task);
  // As at run time: search directories already lead to the file; a playbook task's src is relative to the playbook.
  const path = isAbsolute(found) || task.searchDirs?.length ? found : join(ctx.baseDir, found);
  if (!existsSync(path)) {
    const where = task.searchDirs?.length ? ` (looked in ${task.searchDirs.map((d) => join(d, 'templates')).join(', ')} and those directories)` : '';
    return [{ ...ctx.srcPos, message: `template src not found: ${src}${where}` }];
  }
  // Lookups in the file read from the same search directories as at run time.
  const lookupPath = (kind: LookupKind, name: string) => {
    const at = findLocal(name, { module: kind === 'template' ? 'template' : 'copy', searchDirs: task.searchDirs });
    return isAbsolute(at) || task.searchDirs?.length ? at : join(ctx.baseDir, at);
  };
  const checked = checkTemplateFile(path, path, syntaxOf(args), ctx.known, ctx.written, lookupPath);
  ctx.sources.set(checked.file, checked.text);
  return checked.problems;
}
