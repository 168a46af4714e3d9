/**
 * Turns a play's tasks into what one host will run: `--tags` and `when`
 * decide which tasks are selected, templates are rendered with the host's
 * variables, and the module's schema parses the result.
 */
import { taskScope, type HostScope } from '../config/hostvars.js';
import { checkRenderedArgs } from '../config/rendered.js';
import type { Task } from '../config/model.js';
import { modules } from '../modules/index.js';
import { defineModule, type Module, ModuleError } from '../modules/types.js';
import { z } from 'zod';
import { TemplateError } from '../template/errors.js';
import type { RenderedLeaf } from '../template/render.js';
import { hideSecretLeaves } from './secrecy.js';
import { evaluateExpressions, type EvaluatedExpressions } from './expressions.js';

export interface PreparedTask {
  index: number;
  task: Task;
  module: Module;
  args: unknown;
  /** The templated leaves of the task's arguments, with the variables each was computed from. */
  leaves: RenderedLeaf[];
  /** Values of the secret variables the arguments were computed from, whatever filters transformed them (keys saved-plan fingerprints; never printed). */
  secretValues: string[];
  /** Set when the task does not run on this host, with the reason. */
  skip?: string;
  /** One item of a loop (issue 13: src/engine/dynamic.ts). */
  item?: { index: number; label: string };
  /** Issue 15: the module's bare expressions (assert's `that`, debug's `var`), evaluated with the task's variables. */
  expressions?: EvaluatedExpressions;
}

export class TaskPrepareError extends Error {
  constructor(
    readonly task: Task,
    message: string,
  ) {
    super(message);
  }
}

/** --tags and --skip-tags, as Ansible selects: see selectedByTags. */
export interface TagFilter {
  tags?: string[];
  skipTags?: string[];
}

/**
 * Ansible's rule: an untagged task carries the tag `untagged`; --tags (default `all`) selects a
 * task tagged `always`, or any task but a `never` one for `all`, or one with a listed tag, or a
 * tagged non-`never` one for `tagged`; --skip-tags then drops a task with a listed tag (`all`
 * drops all but `always` ones unless `always` is listed too; `tagged` every tagged one).
 */
export function selectedByTags(task: Pick<Task, 'tags'>, filter: TagFilter = {}): boolean {
  const only = filter.tags?.length ? filter.tags : ['all'];
  const skip = filter.skipTags ?? [];
  const tags = task.tags.length ? task.tags : ['untagged'];
  const tagged = task.tags.length > 0;
  const has = (list: string[]) => tags.some((t) => list.includes(t));
  const run = tags.includes('always') || (only.includes('all') && !tags.includes('never')) || has(only) || (only.includes('tagged') && tagged && !tags.includes('never'));
  if (!run || skip.length === 0) return run;
  if (skip.includes('all')) return tags.includes('always') && !skip.includes('always');
  return !has(skip) && !(skip.includes('tagged') && tagged);
}

/** An Ansible module plumb lacks: never planned (prepareTask fails the task first), only skipped. */
const absent = defineModule<unknown, Record<string, never>>({
  name: 'absent',
  summary: 'an Ansible module plumb does not have',
  schema: z.unknown(),
  title: () => '',
  facts: () => ({}),
  plan: () => {
    throw new ModuleError('an Ansible module plumb does not have');
  },
});

/** Whether plumb has the task's module (not an Ansible module it lacks). */
export function hasModule(task: Task): boolean {
  return Object.hasOwn(modules, task.module);
}

export const TAGS_SKIP = 'not selected by --tags/--skip-tags';

/** `filter` selects tasks by tag; handlers (no filter) run whenever notified. */
export function prepareTask(task: Task, index: number, playScope: HostScope, filter?: TagFilter): PreparedTask {
  let scope: HostScope;
  try {
    scope = taskScope(playScope, task);
  } catch (e) {
    // The `when` of an include_vars before it could not be decided on this host: that task's failure.
    if (e instanceof TemplateError) throw new TaskPrepareError(task, playScope.redactor.redact(`task "${task.name}": ${e.message}`));
    throw e;
  }
  const module: Module = hasModule(task) ? modules[task.module as keyof typeof modules] : absent;
  // meta tasks (blocks hook): no module, nothing to render; the applier carries out the action.
  if (task.meta && (!filter || selectedByTags(task, filter)) && (task.when === undefined || scope.condition(task.when, task.pos))) {
    return { index, task, module, args: task.meta, leaves: [], secretValues: [] };
  }
  if (filter && !selectedByTags(task, filter)) return { index, task, module, args: undefined, leaves: [], secretValues: [], skip: TAGS_SKIP };
  if (task.when !== undefined && !scope.condition(task.when, task.pos)) {
    return { index, task, module, args: undefined, leaves: [], secretValues: [], skip: `when: ${task.when} is false` };
  }
  if (module === absent) {
    const why = task.when === undefined ? 'it has no when' : `its when (${task.when}) is true here`;
    throw new TaskPrepareError(
      task,
      scope.redactor.redact(`task "${task.name}": ${task.module} is an Ansible module plumb does not have, and this task runs on this host (${why})`),
    );
  }
  let rendered: unknown;
  let leaves: RenderedLeaf[];
  try {
    ({ value: rendered, leaves } = scope.scope.renderLeaves(task.args, task.pos));
  } catch (e) {
    // An undefined variable or a failing filter is that task's failure, named as such.
    if (e instanceof TemplateError) throw new TaskPrepareError(task, scope.redactor.redact(`task "${task.name}": ${e.message}`));
    throw e;
  }
  // Before anything can print a value computed from a secret (the schema's messages too).
  const unhidden = hideSecretLeaves(task.module, leaves, scope);
  if (unhidden) throw new TaskPrepareError(task, `task "${task.name}": ${unhidden}`);
  // The module's strict rule, on what the variables made: the host sees nothing of a task that fails it.
  const checked = checkRenderedArgs(task.module, module.schema, rendered, leaves, { secretNames: scope.secretNames, redact: (t) => scope.redactor.redact(t) });
  if (!checked.ok) throw new TaskPrepareError(task, scope.redactor.redact(`task "${task.name}": ${checked.issues[0].message}`));
  // Issue 15: a control module's bare expressions, evaluated here, in the scope the arguments were rendered in.
  const expressions = evaluateExpressions(module, checked.data, scope, task);
  const secretValues = [...new Set([...secretsRead(leaves, scope), ...(expressions?.secretValues ?? [])])];
  return { index, task, module, args: checked.data, leaves, secretValues, ...(expressions ? { expressions } : {}) };
}

function secretsRead(leaves: RenderedLeaf[], scope: HostScope): string[] {
  const values = new Set<string>();
  for (const leaf of leaves) for (const name of leaf.reads) if (scope.secretNames.has(name)) values.add(String(scope.vars[name]));
  return [...values];
}
