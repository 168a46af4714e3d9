/**
 * The applier: the only code that changes hosts. It walks a host's plan in
 * task order, re-probes a task whose state was unknown or that follows a
 * change, runs the module's steps, then runs notified handlers once, in the
 * order they are defined.
 */
import { taskScope, type HostScope } from '../config/hostvars.js';
import type { Play, Task } from '../config/model.js';
import type { ModuleContext, RunStep } from '../modules/types.js';
import { UnreachableError, type Transport } from '../transport/types.js';
import { clearPendingCommand, writePendingCommand, type PendingKeys } from './pending.js';
import type { RunningCommands } from './running.js';
import { taskContext } from './context.js';
import { becomeOf, playBecome, taskPlanFrom, type PlannedTasks } from './planner.js';
import { prepareTask, type PreparedTask } from './prepare.js';
import { probeTasks } from './probe.js';
import type { TaskPlan, TaskResult } from './types.js';
import { refreshFacts } from './fact-refresh.js';
import type { TaskFacts } from './probe.js';

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
  /** Where this play's owed handlers are kept on the host. */
  pending: PendingKeys;
  /** Commands in flight, for the second Ctrl-C. */
  running?: RunningCommands;
}

export class StepError extends Error {}
export class InterruptedError extends Error {}

/** The host stopped (Ctrl-C, lost connection, a failure outside any task); carries what was done before. */
export class ApplyStopped extends Error {
  constructor(
    readonly reason: Error,
    readonly results: TaskResult[],
  ) {
    super(reason.message);
  }
}

/** Runs `work` as one tracked remote command when a tracker is given. */
type Track = <T>(task: string, command: string, work: () => Promise<T>) => Promise<T>;
const untracked: Track = (_task, _command, work) => work();

export async function runSteps(transport: Transport, steps: RunStep[], become: boolean | string, ctx: ModuleContext, task: Task, timeoutMs?: number, track: Track = untracked) {
  for (const step of steps) {
    if (step.kind === 'write') {
      await track(task.name, step.describe, () => transport.writeFile(step.path, step.content, { mode: step.mode, owner: step.owner, group: step.group, become }));
      continue;
    }
    const result = await track(task.name, step.describe, () => transport.exec(step.command, { stdin: step.stdin, become, timeoutMs, label: task.name }));
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
  return taskScope(scope, task).condition(task.changed_when, task.pos);
}

/**
 * Apply one host's plan. Returns per-task results; when the host stops early
 * (Ctrl-C, lost connection) throws ApplyStopped with the results so far, so
 * the recap still counts what changed.
 */
export async function applyHost(input: ApplyInput): Promise<{ results: TaskResult[]; failed: boolean }> {
  const results: TaskResult[] = [];
  try {
    return await applyTasks(input, results);
  } catch (e) {
    throw new ApplyStopped(e instanceof Error ? e : new Error(String(e)), results);
  }
}

async function applyTasks(input: ApplyInput, results: TaskResult[]): Promise<{ results: TaskResult[]; failed: boolean }> {
  const { transport, play, planned, hooks } = input;
  // Issue 13: a fact module read again at apply gives the tasks after it (and handlers) new facts.
  let { scope, ctx } = input;
  const refreshed = new Set<number>();
  const reread = new Map<number, TaskFacts>();
  const host = transport.host;
  const track: Track = input.running ? (task, command, work) => input.running!.track(host, task, command, work) : untracked;
  const notified = new Set<string>(planned.pendingHandlers);
  let pendingWritten = new Set<string>(planned.pendingHandlers);
  let dirty = false; // an earlier task changed the host: later probes may be stale

  const reprobe = async (t: PreparedTask): Promise<TaskPlan> => {
    // Only this task's facts: what it changes is read again just before it changes it.
    const { facts } = await track(t.task.name, 'probe (read-only)', () => probeTasks(transport, [t], ctx, (p) => becomeOf(play, p.task), [], input.timeoutMs));
    if (t.module.setsFacts && facts.has(t.index)) reread.set(t.index, facts.get(t.index)!);
    return taskPlanFrom(t, facts.get(t.index), taskContext(ctx, t.task));
  };

  const recordPending = async (names: string[]) => {
    const missing = names.filter((n) => !pendingWritten.has(n));
    if (!missing.length) return;
    const all = [...pendingWritten, ...missing];
    const write = writePendingCommand(input.pending);
    const r = await track('record pending handlers', 'write the names of the handlers owed', () =>
      transport.exec(write.command, { stdin: write.content(all), become: playBecome(play), timeoutMs: input.timeoutMs, label: 'record pending handlers' }),
    );
    if (r.code !== 0) throw new StepError(`could not record pending handlers: ${r.stderr.trim()}`);
    pendingWritten = new Set(all);
  };

  const runOne = async (t: PreparedTask, initial: TaskPlan | undefined, handler: boolean): Promise<TaskResult> => {
    const name = t.task.name;
    if (t.skip) return { name, status: 'skipped', changes: [], handler };
    const plan = initial && !dirty && initial.outcome !== 'may-change' ? initial : await reprobe(t);
    if (plan.outcome === 'may-change') {
      return { name, status: 'failed', changes: [], error: `cannot tell the current state: ${plan.reason}`, handler };
    }
    if (plan.outcome === 'error') return { name, status: 'failed', changes: [], error: plan.reason, handler };
    if (plan.outcome === 'ok' || plan.outcome === 'skipped') return { name, status: plan.outcome === 'ok' ? 'ok' : 'skipped', changes: [], handler };
    const steps = plan.steps ?? [];
    if (!handler && t.task.notify.length) await recordPending(t.task.notify);
    await runSteps(transport, steps, becomeOf(play, t.task), ctx, t.task, input.timeoutMs, track);
    dirty = true;
    const changed = changedWhen(t.task, scope);
    return { name, status: changed ? 'changed' : 'ok', changes: changed ? plan.changes : [], handler };
  };

  /**
   * Everything that happens for one task (render, re-probe, diff, writes, commands, changed_when)
   * is that task's: a failure is recorded against it, honours ignore_errors, and the host goes on
   * or stops as for any failed task. Only a lost connection ends the host.
   */
  const attempt = async (task: Task, handler: boolean, work: () => Promise<TaskResult>): Promise<TaskResult> => {
    hooks?.taskStart?.(task.name);
    let result: TaskResult;
    try {
      result = await work();
    } catch (e) {
      if (e instanceof UnreachableError || e instanceof InterruptedError) throw e;
      result = { name: task.name, status: 'failed', changes: [], error: ctx.redact(e instanceof Error ? e.message : String(e)), handler };
    }
    if (result.status === 'failed' && task.ignore_errors) result.ignored = true;
    results.push(result);
    hooks?.taskDone?.(result);
    return result;
  };

  for (const t of planned.prepared) {
    if (hooks?.stopped?.()) throw new InterruptedError('interrupted');
    const result = await attempt(t.task, false, () =>
      refreshed.has(t.index) ? runOne(refreshFacts.prepare(t, scope), undefined, false) : runOne(t, planned.tasks[t.index], false),
    );
    if (t.module.setsFacts && result.status === 'ok' && planned.refresh) {
      const next = planned.refresh.after(t, reread.get(t.index));
      if (next) {
        ({ scope, ctx } = next);
        for (const later of planned.prepared) if (later.index > t.index) refreshed.add(later.index);
      }
    }
    if (result.status === 'failed' && !result.ignored) return { results, failed: true };
    if (result.status === 'changed') t.task.notify.forEach((n) => notified.add(n));
  }

  let handlersFailed = false;
  for (const [i, handler] of play.handlers.entries()) {
    if (!notified.has(handler.name)) continue;
    if (hooks?.stopped?.()) throw new InterruptedError('interrupted');
    const result = await attempt(handler, true, () => runOne(prepareTask(handler, i, scope), undefined, true));
    if (result.status === 'failed' && !result.ignored) {
      handlersFailed = true;
      break;
    }
  }
  if (!handlersFailed && pendingWritten.size) {
    const r = await track('clear pending handlers', 'remove the record of owed handlers', () =>
      transport.exec(clearPendingCommand(input.pending), { become: playBecome(play), timeoutMs: input.timeoutMs }),
    );
    if (r.code !== 0) throw new StepError(`could not clear pending handlers: ${r.stderr.trim()}`);
  }
  return { results, failed: handlersFailed };
}
