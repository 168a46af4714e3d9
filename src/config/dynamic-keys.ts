/**
 * Load-time checks of the run-time half of a task (issue 13): loops and
 * loop_control, register, changed_when/failed_when lists, until/retries/delay,
 * check_mode, and set_fact's variables. Types are checked by the keyword
 * schemas (schema.ts); here what a schema cannot say, each at its position:
 * one loop keyword per task, a loop literal that is not a list, variable names.
 */
import { dirname, join } from 'node:path';
import { isTemplate } from '../template/expr.js';
import { describeValue } from '../source/issues.js';
import { isVariableName } from '../source/names.js';
import type { PathPart } from '../source/yaml.js';
import type { LoopForm, LoopSpec, Task } from './model.js';
import { reservedVariables } from './schema.js';
import { KeyValueError, parseKeyValues } from './key-value.js';
import { SequenceError, sequence } from './sequence.js';

export const LOOP_FORMS: readonly LoopForm[] = [
  'loop',
  'with_items',
  'with_list',
  'with_dict',
  'with_together',
  'with_subelements',
  'with_fileglob',
  'with_first_found',
  'with_sequence',
  'with_nested',
  'with_indexed_items',
];

/** What the checks need of the Checker (kept narrow so this file does not import playbook.ts). */
export interface KeyChecker {
  error(path: PathPart[], message: string, at?: 'value' | 'key'): void;
  warning(path: PathPart[], message: string): void;
  templates(value: unknown, path: PathPart[]): boolean;
  conditions(cond: unknown, path: PathPart[]): boolean;
  file: string;
}

type Dynamic = Pick<Task, 'loop' | 'register' | 'failed_when' | 'until' | 'retries' | 'delay' | 'check_mode' | 'changed_when'>;

/** A list of conditions is their `and`, as Ansible reads it. */
export function joinConditions(c: unknown): string | boolean | undefined {
  if (c === undefined || typeof c === 'boolean') return c;
  if (Array.isArray(c)) return c.length === 1 ? String(c[0]) : c.map((x) => `(${String(x)})`).join(' and ');
  return String(c);
}

function variableName(k: KeyChecker, name: unknown, path: PathPart[], what: string): boolean {
  if (typeof name !== 'string') return true; // the schema said so already
  if (!isVariableName(name)) {
    k.error(path, `${what} "${name}" is not a valid variable name: use letters, digits and _, not starting with a digit`);
    return false;
  }
  if (reservedVariables.includes(name)) {
    k.error(path, `${what} "${name}" is provided by plumb and cannot be redefined`);
    return false;
  }
  return true;
}

/** with_sequence written literally: its arguments are checked at load time, as far as no template is in them. */
function sequenceProblem(v: unknown): string | undefined {
  const terms = Array.isArray(v) ? v : [v];
  for (const term of terms) {
    if (typeof term === 'string' && isTemplate(term)) continue;
    if (term !== null && typeof term === 'object' && !Array.isArray(term) && Object.values(term).some((x) => typeof x === 'string' && isTemplate(x))) continue;
    try {
      sequence(term);
    } catch (e) {
      if (e instanceof SequenceError) return e.message;
      throw e;
    }
  }
  return undefined;
}

/** Why a literal loop value is not what `form` takes, or undefined. A template is judged once rendered. */
function loopShapeProblem(form: LoopForm, v: unknown): string | undefined {
  if (typeof v === 'string' && isTemplate(v)) return undefined;
  switch (form) {
    case 'loop':
    case 'with_list':
    case 'with_together':
      return Array.isArray(v) ? undefined : `${form} needs a list (or a template that renders to one), found ${describeValue(v)}`;
    case 'with_items':
      return v === null || (typeof v === 'object' && !Array.isArray(v)) ? `with_items needs a list, found ${describeValue(v)}` : undefined;
    case 'with_dict':
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? undefined : `with_dict needs a mapping (or a template that renders to one), found ${describeValue(v)}`;
    case 'with_subelements':
      return Array.isArray(v) && v.length >= 2 && v.length <= 3 && typeof v[1] === 'string'
        ? undefined
        : 'with_subelements needs [list, "key"] (and optionally {skip_missing: true})';
    case 'with_fileglob':
      return typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))
        ? undefined
        : `with_fileglob needs a pattern or a list of patterns, found ${describeValue(v)}`;
    case 'with_first_found':
      return typeof v === 'string' || Array.isArray(v) || (v !== null && typeof v === 'object')
        ? undefined
        : `with_first_found needs a list of file names or {files, paths}, found ${describeValue(v)}`;
    case 'with_sequence':
      return sequenceProblem(v);
    case 'with_nested':
      return Array.isArray(v) && v.length > 0 ? undefined : `with_nested needs a list of lists, found ${describeValue(v)}`;
    case 'with_indexed_items':
      return v === null || (typeof v === 'object' && !Array.isArray(v)) ? `with_indexed_items needs a list, found ${describeValue(v)}` : undefined;
  }
}

/** The run-time keys of one task; `ok` false when any is wrong (each error already reported). */
export function dynamicKeys(k: KeyChecker, value: Record<string, unknown>, path: PathPart[], kind: 'task' | 'handler'): { ok: boolean; fields: Dynamic } {
  let ok = true;
  const fields: Dynamic = {};
  const forms = LOOP_FORMS.filter((f) => value[f] !== undefined);
  const runtime = [...forms, 'loop_control', 'register', 'until'].filter((key) => value[key] !== undefined);
  if (kind === 'handler' && runtime.length) {
    k.error([...path, runtime[0]], `"${runtime[0]}" on a handler is not supported: plumb's handlers are single tasks`, 'key');
    return { ok: false, fields };
  }
  if (forms.length > 1) {
    k.error([...path, forms[1]], `a task has one loop: "${forms[0]}" and "${forms[1]}" are both given`, 'key');
    ok = false;
  }
  if (value.loop_control !== undefined && forms.length === 0) {
    k.error([...path, 'loop_control'], 'loop_control without a loop: add "loop:" (or a with_* keyword)', 'key');
    ok = false;
  }
  if (forms.length === 1) {
    const form = forms[0];
    const problem = loopShapeProblem(form, value[form]);
    if (problem) {
      k.error([...path, form], problem);
      ok = false;
    }
    ok = k.templates(value[form], [...path, form]) && ok;
    const control = (value.loop_control ?? {}) as { loop_var?: string; index_var?: string; label?: string; pause?: number };
    ok = variableName(k, control.loop_var, [...path, 'loop_control', 'loop_var'], 'loop_var') && ok;
    ok = variableName(k, control.index_var, [...path, 'loop_control', 'index_var'], 'index_var') && ok;
    if (control.label !== undefined) ok = k.templates(control.label, [...path, 'loop_control', 'label']) && ok;
    if ((value.loop_control as Record<string, unknown> | undefined)?.extended !== undefined) {
      k.warning([...path, 'loop_control', 'extended'], 'loop_control.extended is accepted and ignored: plumb always sets ansible_loop (index, index0, first, last, length)');
    }
    const fileDir = dirname(k.file);
    fields.loop = {
      form,
      value: value[form],
      loop_var: control.loop_var ?? 'item',
      ...(control.index_var !== undefined ? { index_var: control.index_var } : {}),
      ...(control.label !== undefined ? { label: control.label } : {}),
      ...(control.pause !== undefined ? { pause: control.pause } : {}),
      dirs: [join(fileDir, 'files'), fileDir],
    } satisfies LoopSpec;
  }
  if (value.register !== undefined) {
    if (variableName(k, value.register, [...path, 'register'], 'register')) fields.register = value.register as string;
    else ok = false;
  }
  for (const key of ['changed_when', 'failed_when', 'until'] as const) ok = k.conditions(value[key], [...path, key]) && ok;
  fields.changed_when = joinConditions(value.changed_when);
  fields.failed_when = joinConditions(value.failed_when);
  if (value.until !== undefined) {
    fields.until = value.until as string;
    // Ansible's defaults once `until` is given.
    fields.retries = (value.retries as number | undefined) ?? 3;
    fields.delay = (value.delay as number | undefined) ?? 5;
  } else {
    for (const key of ['retries', 'delay'] as const) {
      if (value[key] !== undefined) k.warning([...path, key], `"${key}" without "until" does nothing (as in Ansible)`);
    }
  }
  if (value.check_mode !== undefined) fields.check_mode = value.check_mode as boolean;
  for (const key of Object.keys(fields) as (keyof Dynamic)[]) if (fields[key] === undefined) delete fields[key];
  return { ok, fields };
}

/** set_fact's arguments: a mapping of variable names (`cacheable` accepted, ignored with a note). */
export function setFactArgs(k: KeyChecker, written: unknown, path: PathPart[]): Record<string, unknown> | undefined {
  let args = written;
  if (typeof written === 'string') {
    // Ansible's `set_fact: a=1 b=x` (values stay strings, as there).
    try {
      const parsed = parseKeyValues(written);
      if (parsed.free === undefined || parsed.free.trim() === '') args = parsed.options;
    } catch (e) {
      if (!(e instanceof KeyValueError)) throw e;
    }
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    k.error(path, `set_fact needs a mapping of variables (name: value), found ${describeValue(args)}`);
    return undefined;
  }
  let ok = true;
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(args)) {
    if (name === 'cacheable') {
      k.warning([...path, name], 'set_fact cacheable is accepted and ignored: plumb keeps no fact cache between runs');
      continue;
    }
    if (!variableName(k, name, [...path, name], 'set_fact variable')) ok = false;
    out[name] = v;
  }
  if (ok && Object.keys(out).length === 0) {
    k.error(path, 'set_fact sets no variable');
    return undefined;
  }
  return ok ? out : undefined;
}

/**
 * Names a play's tasks give values to only while it runs (registered results, set_fact
 * variables, loop variables). validate renders offline, so it cannot judge what reads them.
 */
export function runtimeNames(tasks: Task[]): Set<string> {
  const names = new Set<string>();
  for (const t of tasks) {
    if (t.register) names.add(t.register);
    if (t.module === 'set_fact' && t.args && typeof t.args === 'object') for (const k of Object.keys(t.args)) names.add(k);
    if (t.loop) {
      names.add(t.loop.loop_var);
      if (t.loop.index_var) names.add(t.loop.index_var);
      for (const n of ['ansible_loop', 'ansible_loop_var', 'ansible_index_var']) names.add(n);
    }
  }
  return names;
}
