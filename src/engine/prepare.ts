/**
 * Turns a play's tasks into what one host will run: `--tags` and `when`
 * decide which tasks are selected, templates are rendered with the host's
 * variables, and the module's schema parses the result.
 */
import type { HostScope } from '../config/hostvars.js';
import { checkRenderedArgs } from '../config/rendered.js';
import type { Task } from '../config/model.js';
import { modules } from '../modules/index.js';
import type { Module } from '../modules/types.js';
import type { RenderedLeaf } from '../template/render.js';

export interface PreparedTask {
  index: number;
  task: Task;
  module: Module;
  args: unknown;
  /** The templated leaves of the task's arguments, with the variables each was computed from. */
  leaves: RenderedLeaf[];
  /** Set when the task does not run on this host, with the reason. */
  skip?: string;
}

export class TaskPrepareError extends Error {
  constructor(readonly task: Task, message: string) {
    super(message);
  }
}

export function selectedByTags(task: Task, tags: string[] | undefined): boolean {
  if (!tags || tags.length === 0) return true;
  return task.tags.includes('always') || task.tags.some((t) => tags.includes(t));
}

export function prepareTask(task: Task, index: number, scope: HostScope, tags?: string[]): PreparedTask {
  const module = modules[task.module as keyof typeof modules];
  if (!module) throw new TaskPrepareError(task, `unknown module ${task.module}`);
  if (!selectedByTags(task, tags)) return { index, task, module, args: undefined, leaves: [], skip: 'not selected by --tags' };
  if (task.when !== undefined && !scope.condition(task.when, task.pos)) {
    return { index, task, module, args: undefined, leaves: [], skip: `when: ${task.when} is false` };
  }
  const { value: rendered, leaves } = scope.scope.renderLeaves(task.args, task.pos);
  // The module's strict rule, on what the variables made: the host sees nothing of a task that fails it.
  const checked = checkRenderedArgs(task.module, module.schema, rendered, leaves, { secretNames: scope.secretNames, redact: (t) => scope.redactor.redact(t) });
  if (!checked.ok) throw new TaskPrepareError(task, scope.redactor.redact(`task "${task.name}": ${checked.issues[0].message}`));
  return { index, task, module, args: checked.data, leaves };
}
