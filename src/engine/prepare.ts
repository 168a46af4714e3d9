/**
 * Turns a play's tasks into what one host will run: `--tags` and `when`
 * decide which tasks are selected, templates are rendered with the host's
 * variables, and the module's schema parses the result.
 */
import { taskScope, type HostScope } from '../config/hostvars.js';
import { checkRenderedArgs } from '../config/rendered.js';
import type { Task } from '../config/model.js';
import { modules } from '../modules/index.js';
import type { Module } from '../modules/types.js';
import { TemplateError } from '../template/errors.js';
import type { RenderedLeaf } from '../template/render.js';
import { hideSecretLeaves } from './secrecy.js';

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
}

export class TaskPrepareError extends Error {
  constructor(
    readonly task: Task,
    message: string,
  ) {
    super(message);
  }
}

export function selectedByTags(task: Task, tags: string[] | undefined): boolean {
  if (!tags || tags.length === 0) return true;
  return task.tags.includes('always') || task.tags.some((t) => tags.includes(t));
}

export function prepareTask(task: Task, index: number, playScope: HostScope, tags?: string[]): PreparedTask {
  const scope = taskScope(playScope, task);
  const module = modules[task.module as keyof typeof modules];
  if (!module) throw new TaskPrepareError(task, `unknown module ${task.module}`);
  if (!selectedByTags(task, tags)) return { index, task, module, args: undefined, leaves: [], secretValues: [], skip: 'not selected by --tags' };
  if (task.when !== undefined && !scope.condition(task.when, task.pos)) {
    return { index, task, module, args: undefined, leaves: [], secretValues: [], skip: `when: ${task.when} is false` };
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
  return { index, task, module, args: checked.data, leaves, secretValues: secretsRead(leaves, scope) };
}

function secretsRead(leaves: RenderedLeaf[], scope: HostScope): string[] {
  const values = new Set<string>();
  for (const leaf of leaves) for (const name of leaf.reads) if (scope.secretNames.has(name)) values.add(String(scope.vars[name]));
  return [...values];
}
