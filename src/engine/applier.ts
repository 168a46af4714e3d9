/**
 * The applier: the only code that changes hosts. It walks a host's plan in
 * task order, re-probes a task whose state was unknown or that follows a
 * change, runs the module's steps, then runs notified handlers once, in the
 * order they are defined.
 */
import { taskScope, type HostScope } from '../config/hostvars.js';
import type { Play, Task } from '../config/model.js';
import type { ModuleContext, RunStep } from '../modules/types.js';
import { UnreachableError, type ExecResult, type Transport } from '../transport/types.js';
import { ApplyRuntime, isDynamic, type ApplyOps } from './dynamic.js';
import { clearPendingCommand, writePendingCommand, type PendingKeys } from './pending.js';
import type { RunningCommands } from './running.js';
import { taskContext } from './context.js';
import { becomeOf, playBecome, taskPlanFrom, type PlannedTasks } from './planner.js';
import { prepareTask, type PreparedTask } from './prepare.js';
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

/**
 * Run a task's steps in order; a failing command throws StepError unless `tolerate` (a
 * command/shell whose result is judged by the caller: register, failed_when). Returns the
 * last command's output.
 */
export async function runSteps(
  transport: Transport,
  steps: RunStep[],
  become: boolean | string,
  ctx: ModuleContext,
  task: Task,
  timeoutMs?: number,
  track: Track = untracked,
  tolerate = false,
): Promise<ExecResult | undefined> {
  let last: ExecResult | undefined;
  for (const step of steps) {
    if (step.kind === 'write') {
      await track(task.name, step.describe, () => transport.writeFile(step.path, step.content, { mode: step.mode, owner: step.owner, group: step.group, become }));
      continue;
    }
    const result = await track(task.name, step.describe, () => transport.exec(step.command, { stdin: step.stdin, become, timeoutMs, label: task.name }));
    last = result;
    if (result.code !== 0 && !tolerate) {
      const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' | ');
      const how = result.code === null ? `killed by ${result.signal}` : `exited ${result.code}`;
      throw new StepError(ctx.redact(`${step.describe}: ${how}${tail ? `: ${tail}` : ''}`));
    }
  }
  return last;
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
  const { transport, play, scope, ctx, planned, hooks } = input;
  const host = transport.host;
  const track: Track = input.running ? (task, command, work) => input.running!.track(host, task, command, work) : untracked;
  const notified = new Set<string>(planned.pendingHandlers);
  let pendingWritten = new Set<string>(planned.pendingHandlers);
  let dirty = false; // an earlier task changed the host: later probes may be stale

  const reprobe = async (t: PreparedTask): Promise<TaskPlan> => {
    // Only this task's facts: what it changes is read again just before it changes it.
    const { facts } = await track(t.task.name, 'probe (read-only)', () => probeTasks(transport, [t], ctx, (p) => becomeOf(play, p.task), [], input.timeoutMs));
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

  const runOne = async (t: PreparedTask, initial: TaskPlan | undefined, handler: boolean, decide?: Parameters<ApplyOps['runOne']>[2]): Promise<TaskResult> => {
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
    const out = await runSteps(
      transport,
      steps,
      becomeOf(play, t.task),
      ctx,
      t.task,
      input.timeoutMs,
      track,
      decide !== undefined && (t.task.module === 'command' || t.task.module === 'shell'),
    );
    dirty = true;
    if (decide) {
      // Issue 13: the result is judged with what really ran (register, changed_when, failed_when).
      const verdict = decide(out);
      if (verdict.failed !== undefined) return { name, status: 'failed', changes: [], error: verdict.failed, handler };
      return { name, status: verdict.changed ? 'changed' : 'ok', changes: verdict.changed ? plan.changes : [], handler };
    }
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

  if (isDynamic(play)) {
    // Issue 13: loops, register, set_fact — each task expanded with what really ran before it.
    const runtime = new ApplyRuntime(play, scope, ctx, planned);
    const ops: ApplyOps = {
      dirty: () => dirty,
      runOne: (t, initial, decide) => runOne(t, initial, false, decide),
      exec: async (command, task) => {
        const r = await track(task.name, task.name, () => transport.exec(command, { become: becomeOf(play, task), timeoutMs: input.timeoutMs, label: task.name }));
        return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
      },
      sleep: (s) => new Promise((resolve) => setTimeout(resolve, s * 1000)),
    };
    for (const [index, task] of play.tasks.entries()) {
      if (hooks?.stopped?.()) throw new InterruptedError('interrupted');
      let instances;
      try {
        instances = runtime.expand(task, index);
      } catch (e) {
        const failed = await attempt(task, false, () => Promise.reject(e));
        if (!failed.ignored) return { results, failed: true };
        continue;
      }
      for (const [i, inst] of instances.entries()) {
        if (hooks?.stopped?.()) throw new InterruptedError('interrupted');
        if (i > 0 && runtime.pause(task)) await ops.sleep(runtime.pause(task));
        const result = await attempt(inst.task, false, () => runtime.run(inst, ops));
        if (result.status === 'failed' && !result.ignored) return { results, failed: true };
        if (result.status === 'changed') task.notify.forEach((n) => notified.add(n));
      }
      runtime.finish(task, instances);
    }
  }
  for (const t of isDynamic(play) ? [] : planned.prepared) {
    if (hooks?.stopped?.()) throw new InterruptedError('interrupted');
    const result = await attempt(t.task, false, () => runOne(t, planned.tasks[t.index], false));
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
