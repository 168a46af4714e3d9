/**
 * The planner: one host, one play. Every selected task's probe goes to the
 * host in one batched script; diffs are computed locally and purely. The
 * result is a value (HostPlan) that can be printed, saved and applied.
 */
import type { HostScope } from '../config/hostvars.js';
import type { Play, Task } from '../config/model.js';
import { evaluate } from '../modules/contract.js';
import { taskContext } from './context.js';
import type { ModuleContext } from '../modules/types.js';
import type { Transport } from '../transport/types.js';
import { parsePending, readPendingSnippet, type PendingKeys } from './pending.js';
import { hasModule, prepareTask, type PreparedTask } from './prepare.js';
import { probeTasks, type Become, type TaskFacts } from './probe.js';
import { guardChanges } from './secrecy.js';
import type { HandlerPlan, TaskPlan } from './types.js';
import { planHandlersAtFlushPoints } from './flush.js';
import { markBlockPlans, probeDelegated } from './task-keywords.js';

export interface PlanInput {
  transport: Transport;
  play: Play;
  scope: HostScope;
  ctx: ModuleContext;
  tags?: string[];
  skipTags?: string[];
  timeoutMs?: number;
  /** Where this play's owed handlers are kept on the host. */
  pending: PendingKeys;
  /** The control machine, for tasks with delegate_to: localhost (probed there, read-only). */
  local?: Transport;
  /** The host a run_once task runs on (the batch's first); absent: this one. */
  runOnceHost?: string;
}

export interface PlannedTasks {
  prepared: PreparedTask[];
  tasks: TaskPlan[];
  handlers: HandlerPlan[];
  pendingHandlers: string[];
}

export function becomeOf(play: Play, task: Pick<Task, 'become' | 'become_user'>): Become {
  const become = task.become ?? play.become;
  if (!become) return false;
  return task.become_user ?? play.become_user ?? true;
}

/** The play's own setting, for what is not a task (the record of owed handlers). */
export function playBecome(play: Play): Become {
  return becomeOf(play, {});
}

export function taskPlanFrom(t: PreparedTask, facts: TaskFacts | undefined, ctx: ModuleContext): TaskPlan {
  const base = { index: t.index, task: t.task, args: t.args, secretValues: t.secretValues };
  if (t.skip) return { ...base, outcome: 'skipped', changes: [], reason: t.skip };
  if (t.task.meta) return { ...base, outcome: 'ok', changes: [], reason: `meta: ${t.task.meta}` };
  if (!facts) return { ...base, outcome: 'may-change', changes: [], reason: 'not probed' };
  const { probed, changes, steps, error } = evaluate(t.module, t.args, facts, ctx);
  if (!probed.known) return { ...base, outcome: 'may-change', changes: [], reason: probed.reason, probed };
  if (error !== undefined) return { ...base, outcome: 'error', changes: [], reason: error, probed };
  const guarded = guardChanges(changes, ctx);
  return { ...base, outcome: guarded.length ? 'change' : 'ok', changes: guarded, probed, steps };
}

export async function planTasks(input: PlanInput): Promise<PlannedTasks> {
  const { transport, play, scope, ctx } = input;
  const prepared = play.tasks.map((task, i) => prepareTask(task, i, scope, { tags: input.tags, skipTags: input.skipTags }));
  // Handlers too, before the first probe: an argument that fails its check stops the host before
  // anything runs on it, not after the tasks that notify the handler have changed it.
  // (An Ansible module plumb lacks fails a handler only if it is notified.)
  play.handlers.forEach((handler, i) => hasModule(handler) && prepareTask(handler, i, scope));
  const [{ facts, extra }, delegated] = await Promise.all([
    probeTasks(
      transport,
      prepared.filter((t) => !t.task.delegate_to),
      ctx,
      (t) => becomeOf(play, t.task),
      [{ snippet: readPendingSnippet(input.pending), become: playBecome(play) }],
      input.timeoutMs,
    ),
    probeDelegated(input.local, prepared, ctx, (t) => becomeOf(play, t.task), input.timeoutMs),
  ]);
  for (const [index, f] of delegated) facts.set(index, f);
  const pending = parsePending(extra[0] ?? '').filter((name) => play.handlers.some((h) => h.name === name));
  const tasks = markBlockPlans(
    prepared.map((t) => taskPlanFrom(t, facts.get(t.index), taskContext(ctx, t.task))),
    transport.host,
    input.runOnceHost,
  );
  // Say why an unknown state may settle: apply reads it again after the earlier change.
  const firstChange = tasks.find((t) => t.outcome === 'change');
  for (const t of tasks) {
    if (t.outcome === 'may-change' && firstChange && t.index > firstChange.index) {
      t.reason = `${t.reason}; read again after "${firstChange.task.name}" changes the host`;
    }
  }
  return { prepared, tasks, handlers: planHandlersAtFlushPoints(play, tasks, pending), pendingHandlers: pending };
}
