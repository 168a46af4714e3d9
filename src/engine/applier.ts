/**
 * The applier: the only code that changes hosts. It walks a host's plan in
 * task order, re-probes a task whose state was unknown or that follows a
 * change, runs the module's steps, then runs notified handlers once, in the
 * order they are defined.
 */
import type { HostScope } from '../config/hostvars.js';
import type { Play, Task } from '../config/model.js';
import type { ModuleContext, Step } from '../modules/types.js';
import { TransportTimeoutError, type Transport } from '../transport/types.js';
import { clearPendingCommand, writePendingCommand } from './pending.js';
import { becomeOf, taskPlanFrom, type PlannedTasks } from './planner.js';
import { prepareTask, TaskPrepareError, type PreparedTask } from './prepare.js';
import { probeTasks } from './probe.js';
import type { TaskPlan, TaskResult } from './types.js';

export interface ApplyHooks {
  taskStart?(name: string): void;
  taskDone?(result: TaskResult): void;
  /** True once the run is interrupted: no new task starts. */
  stopped?(): boolean;
}

export interface ApplyInput {
  transport: Transport;
  play: Play;
  scope: HostScope;
  ctx: ModuleContext;
  planned: PlannedTasks;
  timeoutMs?: number;
  hooks?: ApplyHooks;
}

export class StepError extends Error {}
export class InterruptedError extends Error {}

export async function runSteps(transport: Transport, steps: Step[], become: boolean | string, ctx: ModuleContext, task: Task, timeoutMs?: number) {
  for (const step of steps) {
    if (step.kind === 'write') {
      await transport.writeFile(step.path, step.content, { mode: step.mode, owner: step.owner, group: step.group, become });
      continue;
    }
    const result = await transport.exec(step.command, { stdin: step.stdin, become, timeoutMs, label: task.name });
    if (result.code !== 0) {
      const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' | ');
      const how = result.code === null ? `killed by ${result.signal}` : `exited ${result.code}`;
      throw new StepError(ctx.redact(`${step.describe}: ${how}${tail ? `: ${tail}` : ''}`));
    }
  }
}

function changedWhen(task: Task, scope: HostScope): boolean {
  if (task.changed_when === undefined) return true;
  if (typeof task.changed_when === 'boolean') return task.changed_when;
  return scope.condition(task.changed_when, task.pos);
}

/** Apply one host's plan. Returns per-task results; throws only for lost connections (host unreachable). */
export async function applyHost(input: ApplyInput): Promise<{ results: TaskResult[]; failed: boolean }> {
  const { transport, play, scope, ctx, planned, hooks } = input;
  const results: TaskResult[] = [];
  const notified = new Set<string>(planned.pendingHandlers);
  let pendingWritten = new Set<string>(planned.pendingHandlers);
  let dirty = false; // an earlier task changed the host: later probes may be stale

  const reprobe = async (t: PreparedTask): Promise<TaskPlan> => {
    const { probed } = await probeTasks(transport, [t], ctx, (p) => becomeOf(play, p.task), [], input.timeoutMs);
    return taskPlanFrom(t, probed.get(t.index), ctx);
  };

  const recordPending = async (names: string[]) => {
    const missing = names.filter((n) => !pendingWritten.has(n));
    if (!missing.length) return;
    const all = [...pendingWritten, ...missing];
    const write = writePendingCommand(play);
    const r = await transport.exec(write.command, { stdin: write.content(all), become: play.become ? (play.become_user ?? true) : false, timeoutMs: input.timeoutMs, label: 'record pending handlers' });
    if (r.code !== 0) throw new StepError(`could not record pending handlers: ${r.stderr.trim()}`);
    pendingWritten = new Set(all);
  };

  const runOne = async (t: PreparedTask, initial: TaskPlan | undefined, handler: boolean): Promise<TaskResult> => {
    const name = t.task.name;
    if (t.skip) return { name, status: 'skipped', changes: [], handler };
    let plan = initial && !dirty && initial.outcome !== 'may-change' ? initial : await reprobe(t);
    if (plan.outcome === 'may-change') {
      return { name, status: 'failed', changes: [], error: `cannot tell the current state: ${plan.reason}`, handler };
    }
    if (plan.outcome === 'error') return { name, status: 'failed', changes: [], error: plan.reason, handler };
    if (plan.outcome === 'ok' || plan.outcome === 'skipped') return { name, status: plan.outcome === 'ok' ? 'ok' : 'skipped', changes: [], handler };
    const state = plan.probed && plan.probed.known ? plan.probed.state : undefined;
    const steps = t.module.apply(t.args, state, plan.changes, ctx);
    if (!handler && t.task.notify.length) await recordPending(t.task.notify);
    await runSteps(transport, steps, becomeOf(play, t.task), ctx, t.task, input.timeoutMs);
    dirty = true;
    const changed = changedWhen(t.task, scope);
    return { name, status: changed ? 'changed' : 'ok', changes: changed ? plan.changes : [], handler };
  };

  const attempt = async (t: PreparedTask, initial: TaskPlan | undefined, handler: boolean): Promise<TaskResult> => {
    hooks?.taskStart?.(t.task.name);
    let result: TaskResult;
    try {
      result = await runOne(t, initial, handler);
    } catch (e) {
      if (!(e instanceof StepError) && !(e instanceof TransportTimeoutError)) throw e;
      result = { name: t.task.name, status: 'failed', changes: [], error: ctx.redact((e as Error).message), handler };
    }
    if (result.status === 'failed' && t.task.ignore_errors) result.ignored = true;
    results.push(result);
    hooks?.taskDone?.(result);
    return result;
  };

  for (const t of planned.prepared) {
    if (hooks?.stopped?.()) throw new InterruptedError('interrupted');
    const result = await attempt(t, planned.tasks[t.index], false);
    if (result.status === 'failed' && !result.ignored) return { results, failed: true };
    if (result.status === 'changed') t.task.notify.forEach((n) => notified.add(n));
  }

  let handlersFailed = false;
  for (const [i, handler] of play.handlers.entries()) {
    if (!notified.has(handler.name)) continue;
    if (hooks?.stopped?.()) throw new InterruptedError('interrupted');
    let prepared: PreparedTask;
    try {
      prepared = prepareTask(handler, i, scope);
    } catch (e) {
      // planTasks prepared every handler already; should one still fail, it is that handler's failure.
      if (!(e instanceof TaskPrepareError)) throw e;
      const result: TaskResult = { name: handler.name, status: 'failed', changes: [], error: ctx.redact(e.message), handler: true };
      results.push(result);
      hooks?.taskDone?.(result);
      handlersFailed = true;
      break;
    }
    const result = await attempt(prepared, undefined, true);
    if (result.status === 'failed' && !result.ignored) {
      handlersFailed = true;
      break;
    }
  }
  if (!handlersFailed && pendingWritten.size) {
    const r = await transport.exec(clearPendingCommand(play), { become: play.become ? (play.become_user ?? true) : false, timeoutMs: input.timeoutMs });
    if (r.code !== 0) throw new StepError(`could not clear pending handlers: ${r.stderr.trim()}`);
  }
  return { results, failed: handlersFailed };
}
